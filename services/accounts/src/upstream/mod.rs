//! Logging in at the upstream OpenID providers with the `openidconnect` crate: discovery
//! (cached), the authorization-code flow with PKCE (S256), `state` and `nonce`, and the ID
//! token verified for issuer, audience, expiry and nonce with the provider's algorithms only.

pub mod providers;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::ExposeSecret;

pub use providers::ProviderConfig;

use crate::error::{Error, Result};
use flotilla_core::Error as CoreError;

/// How long discovered metadata (and the provider's keys) is reused.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// A verified upstream identity.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The provider's issuer.
    pub issuer: String,
    /// The person's subject there.
    pub subject: String,
    /// Their email, lower-cased.
    pub email: Option<String>,
    /// Whether the provider vouches for that email.
    pub email_verified: bool,
    /// Their display name.
    pub name: Option<String>,
}

/// What the callback needs to finish a log-in (kept server-side, keyed by `state`).
pub struct Started {
    /// Where to send the browser.
    pub url: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
}

/// The configured providers and their discovered metadata.
pub struct Upstream {
    /// The providers, in display order.
    pub providers: Vec<ProviderConfig>,
    http: reqwest::Client,
    metadata: Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>,
}

impl Upstream {
    /// The upstream side over `providers`.
    pub fn new(providers: Vec<ProviderConfig>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Following redirects would open the server to SSRF through a provider's answers.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            providers,
            http,
            metadata: Mutex::new(HashMap::new()),
        })
    }

    /// The provider with `id`.
    pub fn provider(&self, id: &str) -> Result<&ProviderConfig> {
        self.providers.iter().find(|p| p.id == id).ok_or_else(|| {
            let shown: String = id.chars().take(32).collect();
            Error::invalid(
                "provider",
                format!("There is no log-in provider {shown:?}."),
            )
        })
    }

    async fn client(
        &self,
        provider: &ProviderConfig,
        redirect: &str,
    ) -> Result<(ProviderClient, Vec<CoreJwsSigningAlgorithm>)> {
        let cached = self
            .metadata
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&provider.id)
            .filter(|(_, at)| at.elapsed() < METADATA_TTL)
            .map(|(m, _)| m.clone());
        let metadata = match cached {
            Some(m) => m,
            None => {
                let issuer =
                    IssuerUrl::new(provider.issuer.as_str().trim_end_matches('/').to_owned())
                        .map_err(Error::internal)?;
                let m = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| {
                        tracing::warn!(provider = %provider.id, error = %e, "OpenID provider discovery failed");
                        unreachable_provider(provider)
                    })?;
                self.metadata
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(provider.id.clone(), (m.clone(), Instant::now()));
                m
            }
        };
        let algorithms = metadata.id_token_signing_alg_values_supported().clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.client_id.clone()),
            provider
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(Error::internal)?);
        Ok((client, algorithms))
    }

    /// Starts a log-in at `provider`: the URL to send the browser to, with `state`.
    pub async fn start(
        &self,
        provider: &ProviderConfig,
        redirect: &str,
        state: &str,
    ) -> Result<Started> {
        let (client, _) = self.client(provider, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let (url, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Finishes a log-in: exchanges `code` and verifies the ID token.
    pub async fn finish(
        &self,
        provider: &ProviderConfig,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity> {
        let (client, algorithms) = self.client(provider, redirect).await?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(Error::internal)?;
        let response = request
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                // The error may quote the provider's answer, never our secrets.
                tracing::warn!(provider = %provider.id, error = %e, "code exchange refused");
                refused(
                    provider,
                    "refused the log-in code (it may have expired or been used already)",
                )
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| refused(provider, "sent no ID token"))?;
        let verifier = client.id_token_verifier().set_allowed_algs(algorithms);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| {
                tracing::warn!(provider = %provider.id, error = %e, "ID token refused");
                refused(provider, id_token_problem(&e))
            })?;
        Ok(Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_lowercase()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        })
    }
}

/// A client of one provider, as built from its discovered metadata.
type ProviderClient = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn unreachable_provider(provider: &ProviderConfig) -> Error {
    Error::Core(CoreError::Unavailable(format!(
        "The log-in provider {} cannot be reached right now; try again in a minute.",
        provider.name
    )))
}

fn refused(provider: &ProviderConfig, what: &str) -> Error {
    Error::Core(CoreError::Unauthorized(format!(
        "Log-in failed: the provider {} {what}. Start again from the log-in page.",
        provider.name
    )))
}

fn id_token_problem(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "sent an ID token that has expired",
        ClaimsVerificationError::InvalidAudience(_) => "sent an ID token meant for another client",
        ClaimsVerificationError::InvalidIssuer(_) => "sent an ID token from another issuer",
        ClaimsVerificationError::InvalidNonce(_) => {
            "sent an ID token that does not answer this log-in (wrong nonce)"
        }
        ClaimsVerificationError::SignatureVerification(_) => {
            "sent an ID token whose signature does not verify"
        }
        _ => "sent an ID token that could not be verified",
    }
}
