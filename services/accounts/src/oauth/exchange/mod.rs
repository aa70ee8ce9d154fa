//! Token exchange (RFC 8693): a person's access token for a short-lived JWT bound to one
//! registered cluster, `aud` = `<issuer>/clusters/<account>/<cluster>`, carrying the person's
//! email and their role in the account as `groups`. A kube-apiserver that trusts Flotilla as
//! an OpenID issuer for that audience accepts it; Flotilla's own API does not (its audience is
//! `<issuer>/api`).
//!
//! This module holds the exchange's rules; [`store`] holds the one read it makes.

pub mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use flotilla_core::auth::access_token::ACCESS_TOKEN_LIFETIME;
use flotilla_core::auth::credentials::{self, Principal};
use flotilla_core::names::{AccountName, ClusterName};
use flotilla_core::{AppContext, Error};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::token::{required, TokenRequest};
use crate::error::{oauth, Result};
use crate::Accounts;

/// The token-exchange grant's type.
pub const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The only subject token type accepted: Flotilla's own access tokens.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The type of the token issued.
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The audience of `cluster` of `account`: what its kube-apiserver is configured to accept.
pub fn cluster_audience(issuer: &str, account: &str, cluster: &str) -> String {
    format!("{issuer}/clusters/{account}/{cluster}")
}

/// The answer to a token exchange (RFC 8693 §2.2.1). No refresh token: exchange again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeResponse {
    /// The cluster token: an ES256 JWT for `Authorization: Bearer` at that cluster.
    pub access_token: String,
    /// `urn:ietf:params:oauth:token-type:jwt`.
    pub issued_token_type: &'static str,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
}

#[derive(Serialize)]
struct ClusterClaims<'a> {
    iss: &'a str,
    sub: Uuid,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: Uuid,
    /// The client the exchange was made for.
    azp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    email_verified: bool,
    /// The person's role in the account (`viewer`, `admin` or `owner`), for RBAC bindings.
    groups: [&'a str; 1],
    account: &'a str,
    cluster: &'a str,
}

/// Exchanges the subject token for a token bound to the cluster named by `audience`.
pub async fn exchange(
    ctx: &AppContext,
    accounts: &Accounts,
    client_id: &str,
    request: &TokenRequest,
) -> Result<ExchangeResponse> {
    let subject = required(&request.subject_token, "subject_token")?;
    let subject_type = required(&request.subject_token_type, "subject_token_type")?;
    if subject_type != ACCESS_TOKEN_TYPE {
        return Err(oauth(
            "invalid_request",
            format!("subject_token_type must be {ACCESS_TOKEN_TYPE}."),
        ));
    }
    if let Some(wanted) = request.requested_token_type.as_deref() {
        if wanted != JWT_TYPE && wanted != ACCESS_TOKEN_TYPE {
            return Err(oauth(
                "invalid_request",
                format!(
                    "requested_token_type may be {JWT_TYPE} (the default) or {ACCESS_TOKEN_TYPE}."
                ),
            ));
        }
    }
    let audience = required(&request.audience, "audience")?;
    let issuer = ctx.config.issuer();
    let (account, cluster) = parse_audience(issuer, audience)?;
    let (account, cluster) = (account.as_str(), cluster.as_str());
    let person = match credentials::verify_token(&ctx.auth, &ctx.db, issuer, subject).await {
        Ok(Principal::Person {
            id, grant: Some(_), ..
        }) => id,
        Ok(_) => {
            return Err(oauth(
                "invalid_request",
                "subject_token must be a person's access token (from flotilla configure), not an API token.",
            ))
        }
        Err(Error::Unauthorized(_)) => {
            return Err(oauth(
                "invalid_request",
                "subject_token is invalid, expired or revoked; refresh it or log in again.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let member =
        store::cluster_member(&mut *ctx.db.acquire().await?, person, account, cluster).await?;
    let (email, email_verified, role) = match member {
        Some(store::ClusterMember {
            email,
            email_verified,
            role,
            cluster_exists: true,
        }) => (email, email_verified, role),
        // Not a member, or no such cluster: the same answer, so neither can be probed.
        _ => {
            return Err(oauth(
                "invalid_target",
                format!("There is no cluster {cluster:?} in an account {account:?} of yours."),
            ))
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = ClusterClaims {
        iss: issuer,
        sub: person,
        aud: audience,
        iat: now,
        exp: now + ACCESS_TOKEN_LIFETIME.as_secs(),
        jti: Uuid::new_v4(),
        azp: client_id,
        email: email.as_deref(),
        email_verified,
        groups: [&role],
        account,
        cluster,
    };
    let token = accounts.signer.sign_typed(ctx, "JWT", &claims).await?;
    tracing::info!(person = %person, account, cluster, "cluster token issued by exchange");
    Ok(ExchangeResponse {
        access_token: token,
        issued_token_type: JWT_TYPE,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
    })
}

/// The account and cluster of a cluster audience, or `invalid_target`.
fn parse_audience(issuer: &str, audience: &str) -> Result<(AccountName, ClusterName)> {
    let invalid = || {
        oauth(
            "invalid_target",
            format!("audience must be {issuer}/clusters/<account>/<cluster>."),
        )
    };
    let (account, cluster) = audience
        .strip_prefix(issuer)
        .and_then(|r| r.strip_prefix("/clusters/"))
        .and_then(|r| r.split_once('/'))
        .ok_or_else(invalid)?;
    Ok((
        AccountName::parse(account).map_err(|_| invalid())?,
        ClusterName::parse(cluster).map_err(|_| invalid())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_name_one_cluster_of_one_account_of_this_issuer() {
        let issuer = "https://flotilla.example.com";
        let (account, cluster) =
            parse_audience(issuer, "https://flotilla.example.com/clusters/acme/eu-1")
                .expect("valid");
        assert_eq!((account.as_str(), cluster.as_str()), ("acme", "eu-1"));
        for bad in [
            "https://other.example.com/clusters/acme/eu-1",
            "https://flotilla.example.com/clusters/acme",
            "https://flotilla.example.com/clusters/acme/eu-1/x",
            "https://flotilla.example.com/clusters//eu-1",
            "https://flotilla.example.com/clusters/Acme/eu-1",
            "https://flotilla.example.com/api",
        ] {
            assert!(parse_audience(issuer, bad).is_err(), "{bad}");
        }
    }
}
