//! The directory service against a real Postgres: kubeconfig and identity-provider lookups,
//! SPIFFE bundles and the bundle map with its long-polls (across two replicas), published
//! JWT authorities, the public federation endpoint, and interoperability with py-spiffe.

mod bundles;
mod federation;
mod interop;
mod jwt_authorities;
mod lookups;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flotilla_core::testing::TestServer;
use flotilla_core::AppContext;
use reqwest::header::{HeaderMap, ETAG, IF_NONE_MATCH};
use reqwest::Response;
use serde_json::Value;

use crate::support::app::{build_with_workers, test_settings};
use crate::support::fleet::Fleet;

/// `GET url` with bearer `token` (none when empty) and `If-None-Match: etag` when given.
pub async fn fetch(fleet: &Fleet, url: &str, token: &str, etag: Option<&str>) -> Response {
    let mut request = fleet.http.get(url);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    request.send().await.expect("a response")
}

/// The ETag of a response.
pub fn etag(headers: &HeaderMap) -> String {
    headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

/// The account's bundle map as `token` reads it: its ETag and document.
pub async fn bundle_map(fleet: &Fleet, token: &str) -> (String, Value) {
    let r = fetch(fleet, &fleet.acme("/bundles"), token, None).await;
    assert_eq!(r.status(), 200);
    let tag = etag(r.headers());
    (tag, r.json().await.expect("JSON"))
}

/// An API token of `acme` with `role`, made by its owner (the developer).
pub async fn token_of_acme(fleet: &Fleet, role: &str) -> String {
    let mut developer = fleet.flotilla.developer().await;
    let token = developer
        .create_token(&fleet.flotilla.url, "acme", role, 1)
        .await;
    token["token"].as_str().expect("a token").to_owned()
}

/// The `x509-svid` certificates of a bundle, as DER.
pub fn x509_authorities(bundle: &Value) -> Vec<Vec<u8>> {
    bundle["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["use"] == "x509-svid")
        .map(|k| {
            let x5c = k["x5c"].as_array().expect("x5c");
            assert_eq!(x5c.len(), 1, "exactly one certificate: {k}");
            STANDARD
                .decode(x5c[0].as_str().expect("base64"))
                .expect("standard base64 DER")
        })
        .collect()
}

/// A second replica of `fleet`'s server: the same database and public URL, its own caches,
/// listener and port.
pub async fn second_replica(fleet: &Fleet) -> (TestServer, String) {
    let options = fleet.flotilla.ctx.db.connect_options().as_ref().clone();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .connect_with(options)
        .await
        .expect("a second pool");
    let settings = test_settings(&["--dev", "--public-url", &fleet.flotilla.url]);
    let ctx = AppContext::new(settings.config.clone(), pool);
    ctx.readiness.set_ready();
    let server = TestServer::start(build_with_workers(&settings, ctx)).await;
    let base = server.base_url.clone();
    (server, base)
}

/// The JWK parameters of a public key: `kty` with `crv`, `x`, `y` (EC) or `n`, `e` (RSA).
pub fn key_params(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use x509_parser::public_key::PublicKey;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match spki.parsed().expect("a key") {
        PublicKey::EC(point) => {
            let data = point.data();
            let size = (data.len() - 1) / 2;
            serde_json::json!({
                "kty": "EC",
                "crv": if size == 32 { "P-256" } else { "P-384" },
                "x": b64(&data[1..=size]),
                "y": b64(&data[1 + size..]),
            })
        }
        PublicKey::RSA(rsa) => {
            let trim = |b: &[u8]| {
                b.iter()
                    .skip_while(|x| **x == 0)
                    .copied()
                    .collect::<Vec<u8>>()
            };
            serde_json::json!({ "kty": "RSA", "n": b64(&trim(rsa.modulus)), "e": b64(&trim(rsa.exponent)) })
        }
        other => panic!("unexpected key {other:?}"),
    }
}
