//! Flotilla as the OAuth 2.0 authorization server of its own API, for the CLI: the
//! authorization-code grant with PKCE on a loopback redirect (RFC 8252) behind a consent
//! page, the device authorization grant (RFC 8628), rotating refresh tokens with reuse
//! detection, revocation (RFC 7009), token exchange for a cluster's audience (RFC 8693), and
//! the discovery documents.
//!
//! Each thing the server stores has its module, whose `store` submodule holds all of its
//! SQL: [`authorization_codes`], [`device`] (device codes), [`grants`] (grants and their
//! refresh tokens); [`exchange`]'s `store` holds the one read a token exchange makes. The
//! endpoints ([`token`], [`revoke`], [`discovery`], [`device::handlers`], and the consent
//! pages of [`authorize`]) hold no SQL.

pub mod authorization_codes;
pub mod authorize;
pub mod device;
pub mod discovery;
pub mod exchange;
pub mod grants;
pub mod revoke;
pub mod token;

use std::net::IpAddr;

use axum::extract::rejection::FormRejection;
use axum::Form;
use url::{Host, Url};

use crate::error::{oauth, OAuthError, Result};
use crate::rate_limit::Limit;
use crate::Accounts;

/// The CLI's client id: a public client (no secret), as native apps must be (RFC 8252).
pub const CLI_CLIENT_ID: &str = "flotilla-cli";

/// Scopes a client may ask for; `api` (the default) is the Flotilla API.
const SCOPES: [&str; 5] = ["api", "openid", "profile", "email", "offline_access"];

/// Takes a token of `limit` for `client`, or answers `temporarily_unavailable` (429).
pub fn limit(accounts: &Accounts, limit: Limit, client: IpAddr) -> Result<()> {
    accounts
        .limiter
        .check(limit, client)
        .map_err(|wait| OAuthError::rate_limited(wait).into())
}

/// The form body of an OAuth request, or `invalid_request` saying what is wrong with it.
pub fn form<T>(form: Result<Form<T>, FormRejection>) -> Result<T> {
    form.map(|Form(request)| request)
        .map_err(|e| oauth("invalid_request", format!("The body must be a form: {e}")))
}

/// The clients Flotilla's authorization server knows (read as text, so that another one is
/// answered with OAuth's `invalid_client`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum ClientId {
    /// The Flotilla CLI.
    #[schema(rename = "flotilla-cli")]
    FlotillaCli,
}

/// Checks `client_id` names a known client.
pub fn check_client(client_id: Option<&str>) -> Result<&'static str> {
    match client_id {
        Some(CLI_CLIENT_ID) => Ok(CLI_CLIENT_ID),
        Some(_) => Err(oauth(
            "invalid_client",
            "Unknown client_id; the Flotilla CLI is `flotilla-cli`.",
        )),
        None => Err(oauth("invalid_request", "client_id is required.")),
    }
}

/// The granted scope: the requested ones if all are known, `api` when none are asked for.
pub fn check_scope(scope: Option<&str>) -> Result<String> {
    // RFC 6749 §3.3: scopes are separated by spaces (%x20), and nothing else.
    let asked: Vec<&str> = scope
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(unknown) = asked.iter().find(|s| !SCOPES.contains(s)) {
        let unknown: String = unknown.chars().take(40).collect();
        return Err(oauth(
            "invalid_scope",
            format!("Unknown scope {unknown:?}; known: {}.", SCOPES.join(" ")),
        ));
    }
    Ok(if asked.is_empty() {
        "api".into()
    } else {
        asked.join(" ")
    })
}

/// A loopback redirect URI as RFC 8252 §7.3 allows: `http`, the literal 127.0.0.1 or [::1],
/// any port and path, no fragment or credentials.
pub fn is_loopback_redirect(value: &str) -> bool {
    let Ok(url) = Url::parse(value) else {
        return false;
    };
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback() && ip.octets() == [127, 0, 0, 1],
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    let printable = !value.chars().any(|c| c.is_control() || c.is_whitespace());
    printable
        && url.scheme() == "http"
        && loopback
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && value.len() <= 2048
}

/// Verifies a PKCE S256 pair: `BASE64URL(SHA256(verifier)) == challenge`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    well_formed
        && flotilla_core::auth::opaque::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_literals_are_redirects() {
        assert!(is_loopback_redirect("http://127.0.0.1:49152/callback"));
        assert!(is_loopback_redirect("http://[::1]:8000/"));
        assert!(!is_loopback_redirect("http://localhost:8000/"));
        assert!(!is_loopback_redirect("https://127.0.0.1:8000/"));
        assert!(!is_loopback_redirect("http://127.0.0.2:8000/"));
        assert!(!is_loopback_redirect("http://evil.example/"));
        assert!(!is_loopback_redirect("http://user@127.0.0.1:8000/"));
        assert!(!is_loopback_redirect("http://127.0.0.1:8000/#x"));
    }

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn scopes_default_to_the_api_and_unknown_ones_are_refused() {
        assert_eq!(check_scope(None).expect("default"), "api");
        assert_eq!(
            check_scope(Some("api offline_access")).expect("known"),
            "api offline_access"
        );
        assert!(check_scope(Some("admin")).is_err());
        assert!(
            check_scope(Some("api\toffline_access")).is_err(),
            "a tab is no separator"
        );
    }
}
