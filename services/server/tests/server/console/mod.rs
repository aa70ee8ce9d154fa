//! The web console in real Chromium. Each test starts Postgres, the `oidc-provider` fixture
//! and Flotilla, then runs a browser scenario of `web/tests/` (Node, playwright-core driving
//! the system's Chromium), which asserts what a person would see. Screenshots of every page a
//! scenario visits land in `target/screenshots/<scenario>/`.

use crate::support::workspace::repo;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::dns_peers::Pdns;
use crate::support::fleet::identity;
use crate::support::oidc::Flotilla;
use crate::support::pki::fingerprint;

/// Runs `web/tests/<scenario>.mjs` against `flotilla` with `fixtures`; fails with its output.
async fn run(scenario: &str, flotilla: &Flotilla, fixtures: Value) {
    let screenshots = repo().join("target/screenshots").join(scenario);
    let _ = std::fs::remove_dir_all(&screenshots);
    let output = tokio::time::timeout(
        Duration::from_secs(240),
        tokio::process::Command::new("node")
            .arg(repo().join(format!("web/tests/{scenario}.mjs")))
            .env("FLOTILLA_URL", &flotilla.url)
            .env("CHROMIUM", crate::support::chromium::chromium())
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
        "assertion": leaf.assertion(&flotilla.url, &crate::support::fleet::agent_id(cluster), &[]),
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
    crate::support::dns_peers::create_zone(&pdns).await;
    let mut settings = crate::support::dns_peers::settings(&pdns, &pdns.api_url).to_vec();
    // The scenario's one heartbeat must keep the cluster ready while it looks (by default a
    // cluster is stale 8 s after its last heartbeat).
    settings.extend(["--cluster-stale-after", "120"]);
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

#[tokio::test]
async fn log_in_offers_a_button_per_provider_and_the_console_asks_for_a_log_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("providers.toml");
    std::fs::write(
        &file,
        "[[providers]]\nid = \"okta\"\nname = \"Acme Okta\"\nissuer = \"http://127.0.0.1:9/okta\"\nclient_id = \"a\"\n\n\
         [[providers]]\nid = \"google\"\nname = \"Google <Workspace>\"\nissuer = \"http://127.0.0.1:9/google\"\nclient_id = \"b\"\n",
    )
    .expect("write providers");
    let path = file.display().to_string();
    let (server, _ctx, _db) =
        crate::support::app::start_app(&["--oidc-providers-file", &path]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let page = http.get(server.url("/login")).send().await.expect("login");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    for button in [
        "<a class=\"button\" href=\"/login?provider=okta&amp;return_to=%2F\">Log in with Acme Okta</a>",
        "<a class=\"button\" href=\"/login?provider=google&amp;return_to=%2F\">Log in with Google &lt;Workspace&gt;</a>",
    ] {
        assert!(html.contains(button), "{button} not in\n{html}");
    }

    // The console without a session: the log-in, coming back to the same page afterwards.
    let r = http
        .get(server.url("/console/acme/dns"))
        .send()
        .await
        .expect("console");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/login?return_to=%2Fconsole%2Facme%2Fdns"
    );

    // Assets: this build's are cached for a year; another build's are not found.
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link");
    assert!(
        css.starts_with("/assets/") && css.ends_with("/style.css"),
        "{css}"
    );
    let r = http.get(server.url(css)).send().await.expect("css");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let r = http
        .get(server.url("/assets/000000000000/style.css"))
        .send()
        .await
        .expect("old build");
    assert_eq!(r.status(), 404);
}
