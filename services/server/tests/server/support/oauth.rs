//! Flotilla's own token service as the CLI uses it: consent in the browser, the
//! authorization-code exchange with PKCE on a loopback redirect, refreshes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::oidc::{encode, Browser};

/// The CLI's PKCE verifier in these tests.
pub const VERIFIER: &str = "a-verifier-of-the-cli-0123456789-abcdefghijklmnop";
/// A loopback redirect; nothing listens on port 9 (the harness stops there).
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The S256 PKCE challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// Runs the consent step as a browser logged in at the Flotilla at `base`; returns the code.
pub async fn authorization_code(base: &str, browser: &mut Browser) -> String {
    let query = format!(
        "/oauth/authorize?response_type=code&client_id=flotilla-cli&redirect_uri={}&state=xyz&code_challenge={}&code_challenge_method=S256",
        encode(REDIRECT),
        challenge(VERIFIER)
    );
    let consent = browser.get(&format!("{base}{query}")).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.body.contains("Allow the Flotilla CLI"),
        "{}",
        consent.body
    );
    assert!(
        consent.body.contains("port 9"),
        "the page says where the code goes"
    );
    let back = browser.decide_at(base, &consent.body, "allow").await;
    assert!(back.url.as_str().starts_with(REDIRECT), "{back:?}");
    let pairs: Vec<(String, String)> = back.url.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("state".into(), "xyz".into())), "{pairs:?}");
    pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
}

/// A new grant for the logged-in `browser`'s person at the Flotilla at `base`: consent, then
/// the code's exchange.
pub async fn cli_tokens(base: &str, browser: &mut Browser) -> Value {
    let code = authorization_code(base, browser).await;
    let (status, tokens) = exchange(base, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// A request to the token endpoint of the Flotilla at `base`: its status and JSON answer.
pub async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("answered");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON"))
}

/// Exchanges `code` with `verifier` at the Flotilla at `base`: the status and JSON answer.
pub async fn exchange(base: &str, code: &str, verifier: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "flotilla-cli"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// A refresh at the Flotilla at `base`: the status and the new pair (or the error).
pub async fn refresh(base: &str, refresh_token: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "flotilla-cli"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}
