//! The accounts service's settings: the upstream OpenID providers and the token-signing keys.
//! A part of the server's command line, validated at start-up with the rest.

use std::path::PathBuf;

use flotilla_core::config::{clap, parse_issuer, parse_secret, ConfigError};
use secrecy::SecretString;
use url::Url;

/// The accounts service's settings, flattened into the server's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct AccountsSettings {
    /// Upstream OpenID provider's issuer URL (used by the accounts service).
    #[arg(long, env = "FLOTILLA_OIDC_ISSUER", value_parser = parse_issuer)]
    pub oidc_issuer: Option<Url>,

    /// Client id registered for Flotilla at the upstream OpenID provider.
    #[arg(long, env = "FLOTILLA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// Client secret registered for Flotilla at the upstream OpenID provider.
    #[arg(long, env = "FLOTILLA_OIDC_CLIENT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub oidc_client_secret: Option<SecretString>,

    /// A TOML file listing several upstream OpenID providers, each shown as a button on the
    /// log-in page (see the README for its format).
    #[arg(long, env = "FLOTILLA_OIDC_PROVIDERS_FILE")]
    pub oidc_providers_file: Option<PathBuf>,

    /// Secret wrapping the token-signing keys kept in Postgres: 32 random bytes, base64
    /// (`openssl rand -base64 32`). Required outside development mode, which generates one in
    /// the data directory.
    #[arg(long, env = "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET", value_parser = parse_wrapping_secret, hide_env_values = true)]
    pub signing_key_wrapping_secret: Option<SecretString>,

    /// Days a token-signing key signs before a new one takes over (1-365).
    #[arg(long, env = "FLOTILLA_SIGNING_KEY_ROTATION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub signing_key_rotation_days: u32,
}

impl AccountsSettings {
    /// Checks the upstream provider's settings, which must come together. Run once at
    /// start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.oidc_issuer.is_some() != self.oidc_client_id.is_some() {
            return Err(ConfigError::new(
                "FLOTILLA_OIDC_ISSUER (--oidc-issuer) and FLOTILLA_OIDC_CLIENT_ID \
                 (--oidc-client-id) must be set together",
            ));
        }
        if self.oidc_client_secret.is_some() && self.oidc_client_id.is_none() {
            return Err(ConfigError::new(
                "FLOTILLA_OIDC_CLIENT_SECRET (--oidc-client-secret) is set without \
                 FLOTILLA_OIDC_CLIENT_ID (--oidc-client-id) and FLOTILLA_OIDC_ISSUER",
            ));
        }
        Ok(())
    }

    /// Checks that the wrapping secret is set unless `dev` (development mode makes one). Apart
    /// from [`AccountsSettings::validate`] because the server checks it last, after every
    /// other service's settings, as it always has.
    pub fn validate_wrapping_secret(&self, dev: bool) -> Result<(), ConfigError> {
        if !dev && self.signing_key_wrapping_secret.is_none() {
            return Err(ConfigError::new(
                "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET (--signing-key-wrapping-secret) is \
                 required outside development mode: 32 random bytes in base64, e.g. from \
                 `openssl rand -base64 32`. Keep it safe: without it the stored token-signing \
                 keys cannot be read.",
            ));
        }
        Ok(())
    }
}

fn parse_wrapping_secret(value: &str) -> Result<SecretString, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| "must be base64 (e.g. from `openssl rand -base64 32`)".to_string())?;
    if bytes.len() != 32 {
        return Err(format!(
            "must decode to exactly 32 bytes, not {} (e.g. from `openssl rand -base64 32`)",
            bytes.len()
        ));
    }
    Ok(SecretString::from(value.trim().to_owned()))
}
