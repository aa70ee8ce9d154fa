//! `flotilla exec-credential` as kubectl runs it: many at once, with an expired access token.
//! Every one must succeed, the single-use refresh token must be used once (reusing a retired
//! one revokes the whole log-in), the cluster token exchanged once and shared, and a rate
//! limit waited out rather than reported as an ended log-in.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::support::cli::*;
use crate::support::oidc::Flotilla;
use crate::support::pki::{Alg, Ca};

/// Logs alice in with the CLI in a fresh home and registers the cluster `eu-1` there.
async fn logged_in_with_a_cluster() -> (Flotilla, crate::support::oidc::Provider, tempfile::TempDir)
{
    let (flotilla, provider, mut browser) = alice().await;
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    configure_in_browser(&flotilla, &mut browser, h).await;
    let api_ca = Ca::root("eu API server CA", Alg::P256);
    let kubeconfig = h.join("eu.kubeconfig");
    std::fs::write(
        &kubeconfig,
        cluster_kubeconfig("https://203.0.113.10:6443", &api_ca),
    )
    .expect("write");
    let kc = kubeconfig.to_str().expect("UTF-8");
    let od = h.to_str().expect("UTF-8");
    ok(
        h,
        &[
            "register-cluster",
            "--name",
            "eu-1",
            "--generate-identity-ca",
            "--kubeconfig",
            kc,
            "--out-dir",
            od,
        ],
    )
    .await;
    (flotilla, provider, home)
}

/// The saved tokens.
fn credentials(home: &Path) -> Value {
    let text = std::fs::read_to_string(home.join(".flotilla/credentials.json")).expect("read");
    serde_json::from_str(&text).expect("JSON")
}

/// Makes the saved access token look expired, as it is after a night away.
fn expire_access_token(home: &Path) {
    let mut saved = credentials(home);
    saved["expires_at"] = 0.into();
    std::fs::write(home.join(".flotilla/credentials.json"), saved.to_string()).expect("write");
}

/// Runs `flotilla exec-credential --cluster eu-1` `n` times at once; the token each printed,
/// after checking that each succeeded with an ExecCredential that is not about to expire.
async fn exec_credentials_at_once(home: &Path, n: usize) -> Vec<String> {
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..n {
        let home: PathBuf = home.to_owned();
        runs.spawn(async move { flotilla(&home, &["exec-credential", "--cluster", "eu-1"]).await });
    }
    let mut tokens = Vec::with_capacity(n);
    while let Some(out) = runs.join_next().await {
        let out = out.expect("the run");
        assert!(
            out.status.success(),
            "exec-credential failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let credential: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(credential["kind"], "ExecCredential");
        assert_eq!(credential["apiVersion"], "client.authentication.k8s.io/v1");
        let expires = chrono::DateTime::parse_from_rfc3339(
            credential["status"]["expirationTimestamp"]
                .as_str()
                .expect("a time"),
        )
        .expect("RFC 3339");
        assert!(
            expires > chrono::Utc::now() + chrono::Duration::minutes(1),
            "{credential}"
        );
        tokens.push(
            credential["status"]["token"]
                .as_str()
                .expect("a token")
                .to_owned(),
        );
    }
    tokens
}

/// The audience of a JWT (its claims read, not verified: `use_cases` verifies them).
fn audience(token: &str) -> Value {
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url")).expect("JSON");
    claims["aud"].clone()
}

#[tokio::test]
async fn parallel_exec_credentials_with_an_expired_token_all_succeed_and_keep_the_log_in() {
    let (flotilla, _provider, home) = logged_in_with_a_cluster().await;
    let h = home.path();
    let started = Instant::now();
    let mut previous = String::new();
    for round in 0..20 {
        // Half the rounds as many as a `kubectl` burst, half more than the token endpoint's
        // burst allows if each process asked for itself.
        let n = if round % 2 == 0 { 16 } else { 64 };
        let before = credentials(h);
        expire_access_token(h);
        // Nothing cached either: this round must refresh and exchange.
        let _ = std::fs::remove_file(h.join(".flotilla/cluster-tokens.json"));
        let tokens = exec_credentials_at_once(h, n).await;
        // One exchange, shared by all: the token requests stay bounded whatever `n` is.
        assert!(
            tokens.iter().all(|t| *t == tokens[0]),
            "round {round}: {} different tokens",
            tokens
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
        assert_ne!(tokens[0], previous, "round {round}: a new exchange");
        assert_eq!(audience(&tokens[0]), flotilla.at("/clusters/acme/eu-1"));
        let after = credentials(h);
        assert_ne!(
            after["refresh_token"], before["refresh_token"],
            "round {round}: refreshed"
        );
        assert!(after["expires_at"].as_i64().expect("a time") > chrono::Utc::now().timestamp());
        previous = tokens[0].clone();
    }
    // The files are whole and private, and no temporary file is left behind.
    let dir = h.join(".flotilla");
    for name in [
        "credentials.json",
        "cluster-tokens.json",
        "credentials.lock",
    ] {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
    let left: Vec<String> = std::fs::read_dir(&dir)
        .expect("the home")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // With a cached cluster token, an expired access token is not even refreshed.
    let before = credentials(h);
    expire_access_token(h);
    let tokens = exec_credentials_at_once(h, 64).await;
    assert!(tokens.iter().all(|t| *t == previous));
    assert_eq!(credentials(h)["refresh_token"], before["refresh_token"]);

    // The log-in survived: the API still answers with it, after one more refresh.
    let listed = ok(h, &["clusters", "list"]).await;
    assert!(listed.contains("eu-1"), "{listed}");
    assert_ne!(credentials(h)["refresh_token"], before["refresh_token"]);
    eprintln!("20 rounds in {:?}", started.elapsed());
}

#[tokio::test]
async fn a_rate_limited_refresh_waits_instead_of_ending_the_log_in() {
    let (flotilla, _provider, home) = logged_in_with_a_cluster().await;
    let h = home.path();
    let before = credentials(h);
    expire_access_token(h);
    // Use up the token endpoint's burst from this address (the CLI's too).
    let http = reqwest::Client::new();
    let mut sent = 0;
    loop {
        let r = http
            .post(flotilla.at("/oauth/token"))
            .form(&[("client_id", "flotilla-cli")])
            .send()
            .await
            .expect("token");
        if r.status() == 429 {
            break;
        }
        sent += 1;
        assert!(sent < 1000, "never rate-limited");
    }
    let started = Instant::now();
    let credential: Value =
        serde_json::from_str(&ok(h, &["exec-credential", "--cluster", "eu-1"]).await)
            .expect("JSON");
    // It was refused at first (the limit refills a request a second), and waited.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        audience(credential["status"]["token"].as_str().expect("a token")),
        flotilla.at("/clusters/acme/eu-1")
    );
    assert_ne!(credentials(h)["refresh_token"], before["refresh_token"]);
}
