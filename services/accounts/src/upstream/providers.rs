//! The upstream OpenID providers people log in with: one from the environment contract
//! (`FLOTILLA_OIDC_ISSUER`, `..._CLIENT_ID`, `..._CLIENT_SECRET`), more from a TOML file
//! (`FLOTILLA_OIDC_PROVIDERS_FILE`), each with a display name for its log-in button:
//!
//! ```toml
//! [[providers]]
//! id = "okta"                          # a-z, 0-9, '-'; used in /login?provider=okta
//! name = "Acme Okta"                   # the button's label
//! issuer = "https://acme.okta.com"
//! client_id = "0oa1b2c3"
//! client_secret = "..."                # optional (omit for a public client)
//! ```

use anyhow::{bail, Context};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::settings::AccountsSettings;

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Its id in `/login?provider=<id>`.
    pub id: String,
    /// The name on its button.
    pub name: String,
    /// Its issuer URL (discovery is at `<issuer>/.well-known/openid-configuration`).
    pub issuer: Url,
    /// Flotilla's client id there.
    pub client_id: String,
    /// Flotilla's client secret there, if it is a confidential client.
    pub client_secret: Option<SecretString>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    providers: Vec<FileProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    id: String,
    name: String,
    issuer: Url,
    client_id: String,
    client_secret: Option<String>,
}

/// Every configured provider, the environment's first (id `default`).
pub fn load(settings: &AccountsSettings) -> anyhow::Result<Vec<ProviderConfig>> {
    let mut providers = Vec::new();
    if let (Some(issuer), Some(client_id)) = (&settings.oidc_issuer, &settings.oidc_client_id) {
        providers.push(ProviderConfig {
            id: "default".into(),
            name: format!(
                "Log in with {}",
                issuer.host_str().unwrap_or("your provider")
            ),
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: settings.oidc_client_secret.clone(),
        });
    }
    if let Some(path) = &settings.oidc_providers_file {
        let where_ = || format!("FLOTILLA_OIDC_PROVIDERS_FILE ({})", path.display());
        let text = std::fs::read_to_string(path).with_context(where_)?;
        let file: ProvidersFile = toml::from_str(&text).with_context(where_)?;
        for p in file.providers {
            let valid_id = !p.id.is_empty()
                && p.id.len() <= 32
                && p.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_id {
                bail!(
                    "{}: provider id {:?} must be 1-32 characters of a-z, 0-9 and '-'",
                    where_(),
                    p.id
                );
            }
            if providers.iter().any(|q: &ProviderConfig| q.id == p.id) {
                bail!("{}: provider id {:?} is used twice", where_(), p.id);
            }
            let local = matches!(
                p.issuer.host_str(),
                Some("localhost" | "127.0.0.1" | "[::1]")
            );
            if p.issuer.scheme() != "https" && !local {
                bail!(
                    "{}: provider {:?}: issuer must be an https:// URL",
                    where_(),
                    p.id
                );
            }
            if p.name.trim().is_empty() || p.client_id.is_empty() {
                bail!(
                    "{}: provider {:?}: name and client_id must not be empty",
                    where_(),
                    p.id
                );
            }
            providers.push(ProviderConfig {
                id: p.id,
                name: p.name,
                issuer: p.issuer,
                client_id: p.client_id,
                client_secret: p.client_secret.map(SecretString::from),
            });
        }
    }
    Ok(providers)
}
