use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Value};

use super::{etag, fetch, token_of_acme};
use crate::support::fleet::{identity, refused, Fleet};
use crate::support::pki::Alg;
use crate::support::pki::Ca;

#[tokio::test]
async fn kubeconfig_lookups_give_the_server_and_its_ca_and_revalidate_with_etags() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    let server_ca = Ca::root("eu-1 API server CA", Alg::P384);
    let r = fleet
        .put(
            "eu-1",
            &fleet.admin,
            json!({
                "identity_ca": ca.pem(),
                "server": "https://eu-1.example.net:6443",
                "server_ca": server_ca.pem(),
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let url = fleet.acme("/clusters/eu-1/kubeconfig");

    let r = fetch(&fleet, &url, &fleet.admin, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "private, no-cache");
    let tag = etag(r.headers());
    let doc: Value = r.json().await.expect("JSON");
    assert_eq!(doc["server"], "https://eu-1.example.net:6443");
    let pem = STANDARD
        .decode(doc["certificate_authority_data"].as_str().expect("data"))
        .expect("base64");
    assert_eq!(
        String::from_utf8(pem).expect("PEM"),
        server_ca.pem().replace("\r\n", "\n")
    );

    // Revalidation: the same ETag is 304 with no body; another one is the document again.
    let r = fetch(&fleet, &url, &fleet.admin, Some(&tag)).await;
    assert_eq!(r.status(), 304);
    assert_eq!(etag(r.headers()), tag);
    assert!(r.bytes().await.expect("body").is_empty());
    let r = fetch(&fleet, &url, &fleet.admin, Some("\"stale\"")).await;
    assert_eq!(r.status(), 200);

    // The agent of the cluster itself reads it too, as does a viewer.
    let agent = fleet.assertion("eu-1", &leaf);
    assert_eq!(fetch(&fleet, &url, &agent, Some(&tag)).await.status(), 304);
    let viewer = token_of_acme(&fleet, "viewer").await;
    assert_eq!(fetch(&fleet, &url, &viewer, None).await.status(), 200);

    // A kubeconfig document, by Accept or by ?format=, with its own ETag.
    let yaml = fleet
        .http
        .get(&url)
        .bearer_auth(&fleet.admin)
        .header(ACCEPT, "application/yaml")
        .send()
        .await
        .expect("a response");
    assert_eq!(yaml.status(), 200);
    assert_eq!(yaml.headers()[CONTENT_TYPE], "application/yaml");
    assert_ne!(etag(yaml.headers()), tag);
    let text = yaml.text().await.expect("text");
    let by_query = fetch(
        &fleet,
        &format!("{url}?format=kubeconfig"),
        &fleet.admin,
        None,
    )
    .await;
    assert_eq!(by_query.text().await.expect("text"), text);
    let config = parse_yaml(&text);
    assert_eq!(config["kind"], "Config");
    assert_eq!(config["clusters"][0]["name"], "eu-1");
    assert_eq!(
        config["clusters"][0]["cluster"]["server"],
        "https://eu-1.example.net:6443"
    );
    assert_eq!(
        config["clusters"][0]["cluster"]["certificate-authority-data"],
        doc["certificate_authority_data"]
    );
    assert_eq!(config["current-context"], "eu-1");
    assert_eq!(config["users"], json!([]), "no user: {text}");

    let bad = fetch(&fleet, &format!("{url}?format=xml"), &fleet.admin, None).await;
    let problem = refused(bad, 422).await;
    assert_eq!(problem["errors"][0]["field"], "format");
}

/// YAML read by PyYAML (in tests/spiffe/.venv), an independent reader.
fn parse_yaml(text: &str) -> Value {
    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/spiffe/.venv/bin/python"
    );
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.argv[1])))",
            text,
        ])
        .output()
        .expect("tests/spiffe/.venv (run scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test]
async fn identity_providers_trust_every_current_ca_and_any_agent_of_the_account_reads_them() {
    let fleet = Fleet::start().await;
    let (old, _) = identity("eu-1");
    fleet.register("eu-1", &old).await;
    let (us, us_leaf) = identity("us-1");
    fleet.register("us-1", &us).await;
    let url = fleet.acme("/clusters/eu-1/identity-provider");

    // The agent of another cluster of the account: the management cluster's view.
    let us_agent = fleet.assertion("us-1", &us_leaf);
    let r = fetch(&fleet, &url, &us_agent, None).await;
    assert_eq!(r.status(), 200);
    let tag = etag(r.headers());
    let before: Value = r.json().await.expect("JSON");
    assert_eq!(before["prefix"], "spiffe://eu-1/");
    assert_eq!(pems(&before), vec![old.pem().replace("\r\n", "\n")]);

    // A rotation: both CAs, so trust never breaks while workloads move to the new one.
    let (new, _) = identity("eu-1");
    fleet.register_again("eu-1", &new).await;
    let r = fetch(&fleet, &url, &us_agent, Some(&tag)).await;
    assert_eq!(r.status(), 200, "a rotation changes the document");
    let after: Value = r.json().await.expect("JSON");
    let mut expected = vec![
        old.pem().replace("\r\n", "\n"),
        new.pem().replace("\r\n", "\n"),
    ];
    expected.sort();
    let mut got = pems(&after);
    got.sort();
    assert_eq!(got, expected);
    assert!(after["spiffe_sequence"].as_i64() > before["spiffe_sequence"].as_i64());

    let missing = fetch(
        &fleet,
        &fleet.acme("/clusters/nope/identity-provider"),
        &us_agent,
        None,
    )
    .await;
    refused(missing, 404).await;
}

fn pems(doc: &Value) -> Vec<String> {
    let data = STANDARD
        .decode(doc["certificate_authority_data"].as_str().expect("data"))
        .expect("base64");
    let text = String::from_utf8(data).expect("PEM");
    text.split_inclusive("-----END CERTIFICATE-----\n")
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn lookups_across_accounts_find_nothing() {
    let fleet = Fleet::start().await;
    let (ca, _) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    for path in [
        "/clusters/eu-1/kubeconfig",
        "/clusters/eu-1/identity-provider",
        "/clusters/eu-1/jwt-authorities",
        "/bundles",
    ] {
        // A member of another account: nothing there for them.
        let r = fetch(&fleet, &fleet.acme(path), &fleet.other_admin, None).await;
        refused(r, 404).await;
    }
    // An agent of another account: its assertion does not authenticate in acme.
    let other_ca = Ca::root("other identity CA", Alg::P256);
    let other_leaf = other_ca.leaf(&crate::support::fleet::agent_id("x-1"), Alg::P256);
    let r = fleet
        .call(
            reqwest::Method::PUT,
            &fleet.flotilla.at("/api/v1/accounts/other/clusters/x-1"),
            &fleet.other_admin,
            Some(crate::support::fleet::body(&other_ca, &[])),
        )
        .await;
    assert_eq!(r.status(), 201);
    let other_agent = fleet.assertion("x-1", &other_leaf);
    let r = fetch(
        &fleet,
        &fleet.acme("/clusters/eu-1/kubeconfig"),
        &other_agent,
        None,
    )
    .await;
    let problem = refused(r, 401).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("of this account"),
        "{problem}"
    );
    // While in its own account it reads its own cluster.
    let own = fetch(
        &fleet,
        &fleet
            .flotilla
            .at("/api/v1/accounts/other/clusters/x-1/kubeconfig"),
        &other_agent,
        None,
    )
    .await;
    assert_eq!(own.status(), 200);
}
