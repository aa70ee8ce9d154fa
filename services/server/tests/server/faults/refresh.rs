//! Parallel refreshes of one log-in right after a restart (as kubectl's parallel exec plugins
//! do): the signing key is not loaded yet, and a refresh used to load it through a second
//! connection while holding the refresh token's row lock, which the other refreshes waited
//! on, each holding a connection: the pool ran dry and they failed. With a small pool every
//! one of them must succeed.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flotilla_core::db::embedded::free_port;
use flotilla_core::testing::{ServerProcess, TestDb};
use serde_json::Value;

use super::stop;
use crate::accounts::harness::Browser;
use crate::accounts::harness_encode;
use crate::binary::start_ready;

const VERIFIER: &str = "a-verifier-of-the-cli-0123456789-abcdefghijklmnop";
/// A loopback redirect; nothing listens on port 9 (the browser stops there).
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const PARALLEL: usize = 16;

async fn start(work: &std::path::Path, db: &TestDb, port: u16) -> ServerProcess {
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    start_ready(
        work,
        &["--dev", "--public-url", &base, "--db-max-connections", "4"],
        &[("DATABASE_URL", &db.url()), ("FLOTILLA_LISTEN", &listen)],
    )
    .await
}

async fn token(server: &ServerProcess, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("answered");
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// The CLI's log-in: consent in the browser, then the code's exchange; the refresh token.
async fn log_in(server: &ServerProcess) -> String {
    let base = &server.base_url;
    let mut browser = Browser::new();
    browser.continue_as_developer(base).await;
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        VERIFIER.as_bytes(),
    ));
    let consent = browser
        .get(&format!(
            "{base}/oauth/authorize?response_type=code&client_id=flotilla-cli&redirect_uri={}&state=s&code_challenge={challenge}&code_challenge_method=S256",
            harness_encode(REDIRECT)
        ))
        .await;
    let back = browser.decide_at(base, &consent.body, "allow").await;
    let code = back
        .url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    let (status, tokens) = token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "flotilla-cli"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

#[tokio::test]
async fn parallel_refreshes_after_a_restart_all_succeed_on_a_small_pool() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("a free port");
    let mut server = start(work.path(), &db, port).await;
    let refresh_token = log_in(&server).await;
    // A new process has no signing key loaded: the first refreshes load it.
    stop(&mut server).await;
    let mut server = start(work.path(), &db, port).await;

    let mut refreshes = tokio::task::JoinSet::new();
    for _ in 0..PARALLEL {
        let (url, presented) = (server.url("/oauth/token"), refresh_token.clone());
        refreshes.spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", "flotilla-cli"),
                    ("refresh_token", presented.as_str()),
                ])
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .expect("answered");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = refreshes.join_next().await {
        let (status, body) = done.expect("joined");
        assert_eq!(status, 200, "{body}\n{}", server.logs());
        statuses.push(status);
    }
    assert_eq!(statuses.len(), PARALLEL);
    stop(&mut server).await;
}
