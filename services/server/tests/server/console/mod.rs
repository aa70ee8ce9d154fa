//! The web console in real Chromium. Each test starts Postgres, the `oidc-provider` fixture
//! and Flotilla, then runs a browser scenario of `web/tests/` (Node, playwright-core driving
//! the system's Chromium), which asserts what a person would see. Screenshots of every page a
//! scenario visits land in `target/screenshots/<scenario>/`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::accounts::harness::Flotilla;
use crate::clusters::identity;
use crate::clusters::pki::fingerprint;
use crate::dns::peers::Pdns;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `web/tests/<scenario>.mjs` against `flotilla` with `fixtures`; fails with its output.
async fn run(scenario: &str, flotilla: &Flotilla, fixtures: Value) {
    let screenshots = repo().join("target/screenshots").join(scenario);
    let _ = std::fs::remove_dir_all(&screenshots);
    let output = tokio::time::timeout(
        Duration::from_secs(240),
        tokio::process::Command::new("node")
            .arg(repo().join(format!("web/tests/{scenario}.mjs")))
            .env("FLOTILLA_URL", &flotilla.url)
            .env("CHROMIUM", crate::docs::chromium())
            .env("SCREENSHOTS", &screenshots)
            .env("FIXTURES", fixtures.to_string())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the scenario finished in time")
    .expect("run node (scripts/install-test-deps.sh installs it and web/'s packages)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "scenario {scenario} failed:\n{said}"
    );
    println!("{said}");
}

/// An identity CA and a fresh agent assertion of `cluster` for `flotilla`.
fn agent(flotilla: &Flotilla, cluster: &str) -> Value {
    let (ca, leaf) = identity(cluster);
    json!({
        "identity_ca": ca.pem(),
        "sha256": fingerprint(&ca.der()),
        "assertion": leaf.assertion(&flotilla.url, &crate::clusters::agent_id(cluster), &[]),
    })
}

#[tokio::test]
async fn a_newcomer_signs_up_and_finds_a_small_stable_accessible_console() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    run("signup", &flotilla, json!({})).await;
}

#[tokio::test]
async fn an_owner_registers_a_cluster_copies_its_yaml_sees_its_dns_and_revokes_tokens() {
    let pdns = Pdns::start().await;
    crate::dns::pdns::create_zone(&pdns).await;
    let settings = crate::dns::pdns::settings(&pdns, &pdns.api_url);
    let (flotilla, _provider) = Flotilla::with_provider_and(&settings).await;
    let fixtures = json!({
        "eu1": agent(&flotilla, "eu-1"),
        "us1": agent(&flotilla, "us-1"),
    });
    run("fleet", &flotilla, fixtures).await;
}

#[tokio::test]
async fn a_viewer_finds_no_admin_actions() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    run(
        "viewer",
        &flotilla,
        json!({ "eu1": agent(&flotilla, "eu-1") }),
    )
    .await;
}
