//! Registering clusters: the answer, idempotence, rotation with overlap, re-registration
//! after a rebuild, every validation refusal, concurrent registrations, deregistration, and
//! tenant isolation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fleet::{body, identity, refused, Fleet};
use crate::support::pki::{self, fingerprint, next_year, Alg, Ca};

#[tokio::test]
async fn a_registration_answers_with_the_spiffe_prefix_fingerprints_and_status_and_repeats_idempotently(
) {
    let fleet = Fleet::start().await;
    let (ca, _) = identity("eu-1");
    let created = fleet.register("eu-1", &ca).await;
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["name"], "eu-1");
    assert_eq!(created["spiffe_prefix"], "spiffe://eu-1/");
    assert_eq!(created["status"], "offline", "no heartbeat yet");
    assert_eq!(created["labels"]["region"], "eu-west-1");
    let cas = created["identity_cas"].as_array().expect("CAs");
    assert_eq!(cas.len(), 1);
    assert_eq!(cas[0]["sha256"], fingerprint(&ca.der()));
    assert_eq!(cas[0]["current"], true);
    assert_eq!(cas[0]["key"], "EC P-256");
    assert_eq!(
        created["server_ca"]["sha256"],
        fingerprint(&ca.der()),
        "defaults to the identity CA"
    );

    let again = fleet
        .put("eu-1", &fleet.admin, body(&ca, &[("region", "eu-west-1")]))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("JSON");
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(
        again["updated_at"], created["updated_at"],
        "nothing was written"
    );

    let relabelled = fleet
        .put(
            "eu-1",
            &fleet.admin,
            body(&ca, &[("region", "eu-central-1")]),
        )
        .await;
    let relabelled: Value = relabelled.json().await.expect("JSON");
    assert_eq!(relabelled["outcome"], "updated");
    assert_eq!(relabelled["labels"]["region"], "eu-central-1");

    let listed: Value = fleet.get(&fleet.acme("/clusters"), &fleet.admin).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["name"], "eu-1");
}

#[tokio::test]
async fn rsa_and_p384_cas_are_accepted_with_their_key_shown() {
    let fleet = Fleet::start().await;
    let rsa = pki::openssl_ca(&["-newkey", "rsa:2048"]);
    let r = fleet
        .put(
            "rsa",
            &fleet.admin,
            json!({ "identity_ca": rsa, "server": "https://k8s.example.com" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r: Value = r.json().await.expect("JSON");
    assert_eq!(r["identity_cas"][0]["key"], "RSA 2048-bit");
    let p384 = Ca::root("p384", Alg::P384);
    let r: Value = fleet.register("p384", &p384).await;
    assert_eq!(r["identity_cas"][0]["key"], "EC P-384");
    // An RSA CA made by rcgen (its key from openssl), and its agent signing with RS256.
    let rsa_ca = Ca::root("rsa-2 identity CA", Alg::Rsa);
    let r: Value = fleet.register("rsa-2", &rsa_ca).await;
    assert_eq!(r["identity_cas"][0]["key"], "RSA 2048-bit");
    let leaf = rsa_ca.leaf(&crate::support::fleet::agent_id("rsa-2"), Alg::Rsa);
    let agent = fleet.assertion("rsa-2", &leaf);
    assert_eq!(fleet.heartbeat("acme", "rsa-2", &agent).await.status(), 200);
}

/// Sends `body` with `field` replaced by `value` and expects a 422 naming `pointer` with a
/// message containing `words`; then checks that nothing was registered.
async fn expect_refusal(fleet: &Fleet, cluster: &str, body: Value, pointer: &str, words: &str) {
    let r = fleet.put(cluster, &fleet.admin, body).await;
    let problem = refused(r, 422).await;
    let errors = problem["errors"].as_array().expect("field errors");
    let found = errors.iter().find(|e| e["field"] == pointer);
    let message = found
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default();
    assert!(
        message.contains(words),
        "{pointer}: expected {words:?} in {problem}"
    );
}

#[tokio::test]
async fn every_refusal_says_which_field_is_wrong_and_why_and_writes_nothing() {
    let fleet = Fleet::start().await;
    let (good, leaf_ca_issued) = identity("c");
    let base = body(&good, &[]);
    let with = |field: &str, value: Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    let two = format!("{}{}", good.pem(), good.pem());
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(two)),
        "/identity_ca",
        "2 certificates",
    )
    .await;
    let with_key = format!("{}{}", good.pem(), good.issuer.key().serialize_pem());
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(with_key)),
        "/identity_ca",
        "private key",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!("not a certificate")),
        "/identity_ca",
        "no PEM certificate",
    )
    .await;
    // A leaf certificate is not a CA.
    let leaf_pem = pem_of(&leaf_ca_issued.der);
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(leaf_pem)),
        "/identity_ca",
        "not a CA",
    )
    .await;
    let no_cert_sign = Ca::root_with("no sign", Alg::P256, |p| {
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    });
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(no_cert_sign.pem())),
        "/identity_ca",
        "keyCertSign",
    )
    .await;
    let expired = Ca::root_with("expired", Alg::P256, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(expired.pem())),
        "/identity_ca",
        "expired",
    )
    .await;
    let future = Ca::root_with("future", Alg::P256, |p| {
        p.not_before = rcgen::date_time_ymd(next_year(), 1, 1);
    });
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(future.pem())),
        "/identity_ca",
        "not valid yet",
    )
    .await;
    let weak = pki::openssl_ca(&["-newkey", "rsa:1024"]);
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(weak)),
        "/identity_ca",
        "1024-bit RSA",
    )
    .await;
    let p521 = pki::openssl_ca(&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp521r1"]);
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(p521)),
        "/identity_ca",
        "P-256 or P-384",
    )
    .await;
    let compressed = pki::openssl_compressed_point_ca();
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(compressed)),
        "/identity_ca",
        "uncompressed form",
    )
    .await;
    let forged = forge_signature(&good.der());
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(pem_of(&forged))),
        "/identity_ca",
        "signature does not verify",
    )
    .await;
    let huge = "A".repeat(20_000);
    expect_refusal(
        &fleet,
        "c",
        with("identity_ca", json!(huge)),
        "/identity_ca",
        "at most 16384 bytes",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("server_ca", json!("some text")),
        "/server_ca",
        "no PEM certificate",
    )
    .await;

    expect_refusal(
        &fleet,
        "c",
        with("server", json!("ftp://k8s.example.com")),
        "/server",
        "https",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("server", json!("https://admin:pw@k8s.example.com")),
        "/server",
        "credentials",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("server", json!("not a url")),
        "/server",
        "not a URL",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("server", json!("https://k8s.example.com/?x=1")),
        "/server",
        "query",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("labels", json!({"region": "eu west"})),
        "/labels/region",
        "letters, digits",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("labels", json!({"Bad_Prefix.io/x": "y"})),
        "/labels/Bad_Prefix.io~1x",
        "prefix",
    )
    .await;
    expect_refusal(
        &fleet,
        "c",
        with("agent_version", json!("has spaces in it")),
        "/agent_version",
        "printable",
    )
    .await;
    expect_refusal(&fleet, "Upper", base.clone(), "cluster", "lower case").await;

    let unknown = fleet
        .put("c", &fleet.admin, with("identiy_ca", json!("typo")))
        .await;
    assert!(
        unknown.status().is_client_error(),
        "unknown fields are refused"
    );

    let listed: Value = fleet.get(&fleet.acme("/clusters"), &fleet.admin).await;
    assert_eq!(listed, json!([]), "no refusal wrote anything");
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// The certificate with the last byte of its signature changed.
fn forge_signature(der: &[u8]) -> Vec<u8> {
    let mut forged = der.to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    forged
}

#[tokio::test]
async fn a_new_identity_ca_is_a_rotation_and_both_cas_are_trusted_until_the_old_one_is_removed() {
    let fleet = Fleet::start().await;
    let (old, old_leaf) = identity("eu-1");
    fleet.register("eu-1", &old).await;
    let old_agent = fleet.assertion("eu-1", &old_leaf);
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &old_agent).await.status(),
        200
    );

    // The agent rotates its own CA, authenticated under the current one.
    let (new, new_leaf) = identity("eu-1");
    let rotated = fleet
        .put("eu-1", &old_agent, body(&new, &[("region", "eu-west-1")]))
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.expect("JSON");
    assert_eq!(rotated["outcome"], "rotated");
    let cas = rotated["identity_cas"].as_array().expect("CAs");
    assert_eq!(cas.len(), 2, "{rotated}");
    assert_eq!(cas[0]["sha256"], fingerprint(&new.der()));
    assert_eq!(cas[0]["current"], true);
    assert_eq!(cas[1]["sha256"], fingerprint(&old.der()));
    assert_eq!(cas[1]["current"], false);

    let new_agent = fleet.assertion("eu-1", &new_leaf);
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &new_agent).await.status(),
        200
    );
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &old_agent).await.status(),
        200,
        "overlap"
    );
    // The earlier CA is trusted, but may not change the registration back.
    let back = fleet
        .put("eu-1", &old_agent, body(&old, &[("region", "eu-west-1")]))
        .await;
    refused(back, 403).await;

    let current = fleet.remove_identity_ca("eu-1", &new, &fleet.admin).await;
    refused(current, 409).await;
    let removed = fleet.remove_identity_ca("eu-1", &old, &new_agent).await;
    assert_eq!(removed.status(), 204);
    // The old CA's agent is cut off at once, although its assertion was cached.
    let cut = refused(fleet.heartbeat("acme", "eu-1", &old_agent).await, 401).await;
    assert!(
        cut["detail"].as_str().unwrap_or_default().contains("chain"),
        "{cut}"
    );
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &new_agent).await.status(),
        200
    );
}

#[tokio::test]
async fn a_rebuilt_cluster_reregisters_with_a_token_and_keeps_its_name_and_history() {
    let fleet = Fleet::start().await;
    let (first, _) = identity("eu-1");
    let created = fleet.register("eu-1", &first).await;
    let token = create_token(&fleet, json!({ "description": "rebuild" })).await;
    let (rebuilt, leaf) = identity("eu-1");
    let r = fleet
        .put("eu-1", &token, body(&rebuilt, &[("region", "eu-west-1")]))
        .await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.expect("JSON");
    assert_eq!(r["outcome"], "rotated");
    assert_eq!(r["registered_at"], created["registered_at"], "same cluster");
    assert_eq!(
        fleet
            .heartbeat("acme", "eu-1", &fleet.assertion("eu-1", &leaf))
            .await
            .status(),
        200
    );
    let events: Value = fleet
        .get(&fleet.acme("/clusters/eu-1/events"), &fleet.admin)
        .await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"registered") && kinds.contains(&"rotated"),
        "{events}"
    );
}

/// Creates a registration token of `acme` with `spec`; its secret.
pub async fn create_token(fleet: &Fleet, spec: Value) -> String {
    let r = fleet
        .call(
            Method::POST,
            &fleet.acme("/registration-tokens"),
            &fleet.admin,
            Some(spec),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r: Value = r.json().await.expect("JSON");
    r["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn two_concurrent_registrations_of_one_name_have_one_clean_outcome() {
    let fleet = Fleet::start().await;
    for round in 0..3 {
        let name = format!("race-{round}");
        let (a, _) = identity(&name);
        let (b, _) = identity(&name);
        let (ra, rb) = tokio::join!(
            fleet.put(&name, &fleet.admin, body(&a, &[])),
            fleet.put(&name, &fleet.admin, body(&b, &[])),
        );
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "one creates, the other rotates");

        // Create-only: exactly one wins, the other is told the name is taken.
        let name = format!("only-{round}");
        let only = |ca: &Ca| {
            fleet
                .http
                .put(fleet.acme(&format!("/clusters/{name}")))
                .bearer_auth(&fleet.admin)
                .header("if-none-match", "*")
                .json(&body(ca, &[]))
                .send()
        };
        let (ra, rb) = tokio::join!(only(&a), only(&b));
        let (ra, rb) = (ra.expect("response"), rb.expect("response"));
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 412]);
        let cluster: Value = fleet
            .get(&fleet.acme(&format!("/clusters/{name}")), &fleet.admin)
            .await;
        assert_eq!(
            cluster["identity_cas"].as_array().map(Vec::len),
            Some(1),
            "the loser wrote nothing"
        );
    }
}

#[tokio::test]
async fn deregistration_cuts_the_agent_off_at_once_and_other_accounts_see_nothing() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let agent = fleet.assertion("eu-1", &leaf);
    assert_eq!(fleet.heartbeat("acme", "eu-1", &agent).await.status(), 200);
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &agent).await.status(),
        200,
        "cached"
    );

    // Another account's admin finds nothing, exactly as for an account that does not exist.
    for (method, path) in [
        (Method::GET, "/clusters"),
        (Method::GET, "/clusters/eu-1"),
        (Method::DELETE, "/clusters/eu-1"),
        (Method::GET, "/clusters/eu-1/events"),
        (Method::GET, "/registration-tokens"),
        (Method::GET, "/audit"),
    ] {
        let r = fleet
            .call(method.clone(), &fleet.acme(path), &fleet.other_admin, None)
            .await;
        refused(r, 404).await;
    }
    let r = fleet.put("eu-1", &fleet.other_admin, body(&ca, &[])).await;
    refused(r, 404).await;

    let gone = fleet.deregister("eu-1", &fleet.admin).await;
    assert_eq!(gone.status(), 204);
    refused(fleet.heartbeat("acme", "eu-1", &agent).await, 401).await;
    let r = fleet
        .call(
            Method::GET,
            &fleet.acme("/clusters/eu-1"),
            &fleet.admin,
            None,
        )
        .await;
    refused(r, 404).await;
    // The name is free again, with a fresh history.
    let again = fleet.register("eu-1", &ca).await;
    assert_eq!(again["outcome"], "created");
}
