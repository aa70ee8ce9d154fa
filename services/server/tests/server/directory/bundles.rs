use std::time::{Duration, Instant};

use serde_json::{json, Value};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{bundle_map, etag, fetch, key_params, second_replica, token_of_acme, x509_authorities};
use crate::support::fleet::{identity, refused, Fleet};
use crate::support::pki::{fingerprint, openssl_ca, Alg, Ca};

/// Checks that each `x509-svid` JWK's key parameters are those of its certificate.
fn assert_keys_match_certificates(bundle: &Value) {
    for key in bundle["keys"].as_array().expect("keys") {
        if key["use"] != "x509-svid" {
            continue;
        }
        assert!(key.get("kid").is_none(), "no kid on x509-svid: {key}");
        let der = x509_authorities(&json!({ "keys": [key] })).remove(0);
        let (_, cert) = X509Certificate::from_der(&der).expect("a certificate");
        let params = key_params(cert.public_key());
        for (name, value) in params.as_object().expect("parameters") {
            assert_eq!(&key[name], value, "{name} of {key}");
        }
    }
}

/// A long-poll of `url` with `If-None-Match: tag`, in the background: its status, map (null
/// for a 304) and when it was answered.
fn long_poll(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    tag: &str,
) -> tokio::task::JoinHandle<(reqwest::StatusCode, Value, Instant)> {
    let request = http
        .get(url)
        .bearer_auth(token)
        .header("If-None-Match", tag);
    tokio::spawn(async move {
        let r = request.send().await.expect("a response");
        let status = r.status();
        // A 304 has no body.
        let body: Value = r.json().await.unwrap_or(Value::Null);
        (status, body, Instant::now())
    })
}

#[tokio::test]
async fn the_bundle_map_holds_every_trust_domain_and_rotation_bumps_the_sequence() {
    let fleet = Fleet::start().await;
    let (eu, eu_leaf) = identity("eu-1");
    fleet.register("eu-1", &eu).await;
    // An RSA identity CA too (its key from openssl, since ring makes no RSA keys).
    let rsa = openssl_ca(&["-newkey", "rsa:2048"]);
    let r = fleet
        .put(
            "us-1",
            &fleet.admin,
            json!({ "identity_ca": rsa, "server": "https://198.51.100.7:6443" }),
        )
        .await;
    assert_eq!(r.status(), 201);

    let (tag, map) = bundle_map(&fleet, &fleet.admin).await;
    let domains = map["trust_domains"].as_object().expect("trust_domains");
    assert_eq!(domains.keys().collect::<Vec<_>>(), ["eu-1", "us-1"]);
    let eu_bundle = &domains["eu-1"];
    assert_eq!(x509_authorities(eu_bundle), vec![eu.der()]);
    assert_eq!(eu_bundle["spiffe_refresh_hint"], 300);
    assert_keys_match_certificates(eu_bundle);
    assert_keys_match_certificates(&domains["us-1"]);
    let first_sequence = eu_bundle["spiffe_sequence"].as_i64().expect("a sequence");

    // Members and the account's agents read the same map; 304 while nothing changes.
    let agent = fleet.assertion("eu-1", &eu_leaf);
    let viewer = token_of_acme(&fleet, "viewer").await;
    for token in [&agent, &viewer] {
        let r = fetch(&fleet, &fleet.acme("/bundles"), token, Some(&tag)).await;
        assert_eq!(r.status(), 304);
    }

    // Rotation: both CAs are in the bundle, under a higher sequence, and the map's ETag moves.
    let (next, _) = identity("eu-1");
    fleet.register_again("eu-1", &next).await;
    let (rotated_tag, map) = bundle_map(&fleet, &agent).await;
    assert_ne!(rotated_tag, tag);
    let bundle = &map["trust_domains"]["eu-1"];
    let mut got: Vec<String> = x509_authorities(bundle)
        .iter()
        .map(|d| fingerprint(d))
        .collect();
    got.sort();
    let mut want = vec![fingerprint(&eu.der()), fingerprint(&next.der())];
    want.sort();
    assert_eq!(got, want);
    let rotated_sequence = bundle["spiffe_sequence"].as_i64().expect("a sequence");
    assert!(rotated_sequence > first_sequence);
    // The untouched trust domain keeps its sequence.
    assert_eq!(map["trust_domains"]["us-1"], domains["us-1"]);

    // Removing the old CA: one CA again, and the sequence rises again.
    let r = fleet.remove_identity_ca("eu-1", &eu, &fleet.admin).await;
    assert_eq!(r.status(), 204);
    let (_, map) = bundle_map(&fleet, &fleet.admin).await;
    let bundle = &map["trust_domains"]["eu-1"];
    assert_eq!(x509_authorities(bundle), vec![next.der()]);
    assert!(bundle["spiffe_sequence"].as_i64().expect("a sequence") > rotated_sequence);

    // A rebuilt cluster (deregistered, registered again) never sees an old number again.
    let before = bundle["spiffe_sequence"].as_i64().expect("a sequence");
    let r = fleet.deregister("eu-1", &fleet.admin).await;
    assert_eq!(r.status(), 204);
    fleet.register("eu-1", &eu).await;
    let (_, map) = bundle_map(&fleet, &fleet.admin).await;
    assert!(
        map["trust_domains"]["eu-1"]["spiffe_sequence"]
            .as_i64()
            .expect("a sequence")
            > before
    );
}

#[tokio::test]
async fn a_long_poll_answers_on_deregistration_or_when_its_time_runs_out() {
    let fleet = Fleet::start().await;
    let (eu, _) = identity("eu-1");
    fleet.register("eu-1", &eu).await;
    let (us, us_leaf) = identity("us-1");
    fleet.register("us-1", &us).await;
    let agent = fleet.assertion("us-1", &us_leaf);
    let (tag, _) = bundle_map(&fleet, &agent).await;
    let url = fleet.acme("/bundles?wait=30");

    // Nothing changes: 304 when the wait is over, not before.
    let started = Instant::now();
    let r = fetch(&fleet, &fleet.acme("/bundles?wait=1"), &agent, Some(&tag)).await;
    assert_eq!(r.status(), 304);
    assert!(started.elapsed() >= Duration::from_secs(1));
    // A client whose copy is out of date is answered at once, wait or not.
    let started = Instant::now();
    let r = fetch(&fleet, &url, &agent, Some("\"old\"")).await;
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5));

    // Waiters are woken by a deregistration and get the map without that trust domain.
    let waiters: Vec<_> = (0..3)
        .map(|_| long_poll(&fleet.http, &url, &agent, &tag))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = fleet.deregister("eu-1", &fleet.admin).await;
    assert_eq!(r.status(), 204);
    let deregistered = Instant::now();
    for waiter in waiters {
        let (status, body, answered) = waiter.await.expect("the waiter");
        assert_eq!(status, 200);
        assert!(body["trust_domains"].get("eu-1").is_none(), "{body}");
        assert!(body["trust_domains"].get("us-1").is_some());
        assert!(
            answered - deregistered < Duration::from_secs(1),
            "woken late"
        );
    }

    let r = fetch(&fleet, &fleet.acme("/bundles?wait=301"), &agent, Some(&tag)).await;
    let problem = refused(r, 422).await;
    assert_eq!(problem["errors"][0]["field"], "wait");
}

#[tokio::test]
async fn a_change_through_one_replica_wakes_long_polls_on_another_within_a_second() {
    let fleet = Fleet::start().await;
    let (eu, eu_leaf) = identity("eu-1");
    fleet.register("eu-1", &eu).await;
    let (_replica, replica_url) = second_replica(&fleet).await;
    let agent = fleet.assertion("eu-1", &eu_leaf);
    let on_replica = format!("{replica_url}/api/v1/accounts/acme/bundles");
    let r = fetch(&fleet, &on_replica, &agent, None).await;
    assert_eq!(r.status(), 200);
    let tag = etag(r.headers());

    let waiter = long_poll(&fleet.http, &format!("{on_replica}?wait=30"), &agent, &tag);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The change goes through the first replica.
    let (us, _) = identity("us-1");
    fleet.register("us-1", &us).await;
    let changed = Instant::now();
    let (status, body, answered) = waiter.await.expect("the waiter");
    assert_eq!(status, 200);
    assert!(body["trust_domains"].get("us-1").is_some(), "{body}");
    let lag = answered - changed;
    assert!(
        lag < Duration::from_secs(1),
        "the other replica answered after {lag:?}"
    );
    // And the replica's plain reads see it as well.
    let r = fetch(&fleet, &on_replica, &agent, Some(&tag)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_custom_refresh_hint_is_in_every_bundle() {
    let fleet = Fleet::start_with(&["--spiffe-refresh-hint", "60"]).await;
    let ca = Ca::root("eu-1 identity CA", Alg::P384);
    fleet.register("eu-1", &ca).await;
    let (_, map) = bundle_map(&fleet, &fleet.admin).await;
    assert_eq!(map["trust_domains"]["eu-1"]["spiffe_refresh_hint"], 60);
    assert_keys_match_certificates(&map["trust_domains"]["eu-1"]);
}

#[tokio::test]
async fn a_long_poll_outlasts_the_request_timeout_and_answers_at_once_when_the_server_stops() {
    let fleet = Fleet::start_with(&["--request-timeout", "1"]).await;
    let (eu, eu_leaf) = identity("eu-1");
    fleet.register("eu-1", &eu).await;
    let agent = fleet.assertion("eu-1", &eu_leaf);
    let (tag, _) = bundle_map(&fleet, &agent).await;

    // Asked to wait 2 s, beyond the 1 s request timeout: a 304 after the wait, not a 504.
    let started = Instant::now();
    let r = fetch(&fleet, &fleet.acme("/bundles?wait=2"), &agent, Some(&tag)).await;
    assert_eq!(r.status(), 304);
    assert!(started.elapsed() >= Duration::from_secs(2));

    // What serve.rs does on the first SIGTERM: every waiting long-poll answers now, so the
    // drain is not held for the rest of their wait.
    let waiter = long_poll(&fleet.http, &fleet.acme("/bundles?wait=60"), &agent, &tag);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let closed = Instant::now();
    fleet.flotilla.ctx.changes.close();
    let (status, _, answered) = waiter.await.expect("the waiter");
    assert_eq!(status, 304);
    assert!(answered - closed < Duration::from_secs(1));

    // The metrics the README names: none held now, and the snapshots loaded.
    let metrics = fleet.metrics().await;
    assert!(
        metrics.contains("\nflotilla_directory_long_polls 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nflotilla_directory_snapshot_loads_total "),
        "{metrics}"
    );
}
