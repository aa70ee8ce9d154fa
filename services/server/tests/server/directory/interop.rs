//! An independent SPIFFE implementation, py-spiffe (the SPIFFE project's Python library),
//! reads Flotilla's bundles and bundle map and must find exactly the authorities registered.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use super::jwt_authorities::public_jwk;
use super::{bundle_map, fetch};
use crate::support::fleet::{identity, Fleet};
use crate::support::pki::{fingerprint, openssl_ca, Alg, Ca};

/// What py-spiffe found in `doc` (`args` say what it is).
fn py_spiffe(args: &[&str], doc: &Value) -> Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/spiffe");
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), doc.to_string()).expect("write the document");
    let out = Command::new(format!("{root}/.venv/bin/python"))
        .arg(format!("{root}/inspect_bundles.py"))
        .args(args)
        .arg(file.path())
        .output()
        .expect("tests/spiffe/.venv (run scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "py-spiffe refused {doc}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[tokio::test]
async fn py_spiffe_reads_our_bundles_and_bundle_maps_and_finds_the_same_authorities() {
    let fleet = Fleet::start().await;
    // Every key type an identity CA may have, and a rotation (two CAs in one bundle).
    let (eu, _) = identity("eu-1");
    fleet.register("eu-1", &eu).await;
    let (eu_next, eu_leaf) = identity("eu-1");
    fleet.register_again("eu-1", &eu_next).await;
    let p384 = Ca::root("ap-1 identity CA", Alg::P384);
    fleet.register("ap-1", &p384).await;
    let rsa_pem = openssl_ca(&["-newkey", "rsa:2048"]);
    let r = fleet
        .put(
            "us-1",
            &fleet.admin,
            json!({ "identity_ca": rsa_pem, "server": "https://198.51.100.7:6443" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let us: Value = r.json().await.expect("JSON");
    // And JWT authorities of both kinds.
    let agent = fleet.assertion("eu-1", &eu_leaf);
    let keys = json!({ "keys": [public_jwk(Alg::Rsa, "rsa-1"), public_jwk(Alg::P384, "ec-1")] });
    let r = fleet
        .call(
            Method::PUT,
            &fleet.acme("/clusters/eu-1/jwt-authorities"),
            &agent,
            Some(keys),
        )
        .await;
    assert_eq!(r.status(), 200);

    let (_, map) = bundle_map(&fleet, &fleet.admin).await;
    let report = py_spiffe(&["map"], &map);
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        report["eu-1"]["x509_authorities"],
        json!(sorted(vec![
            fingerprint(&eu.der()),
            fingerprint(&eu_next.der())
        ]))
    );
    assert_eq!(report["eu-1"]["jwt_authorities"], json!(["ec-1", "rsa-1"]));
    assert_eq!(
        report["eu-1"]["spiffe_sequence"],
        map["trust_domains"]["eu-1"]["spiffe_sequence"]
    );
    assert_eq!(report["eu-1"]["spiffe_refresh_hint"], 300);
    assert_eq!(
        report["ap-1"]["x509_authorities"],
        json!([fingerprint(&p384.der())])
    );
    assert_eq!(
        report["us-1"]["x509_authorities"],
        json!([us["identity_cas"][0]["sha256"]])
    );
    assert_eq!(report.as_object().expect("domains").len(), 3);

    // The public federation bundle of one trust domain reads the same.
    let r = fleet
        .call(
            Method::PATCH,
            &fleet.acme(""),
            &fleet.admin,
            Some(json!({ "publish_spiffe_bundles": true })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let bundle: Value = fetch(
        &fleet,
        &fleet.flotilla.at("/spiffe/acme/eu-1/bundle"),
        "",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    let one = py_spiffe(&["bundle", "eu-1"], &bundle);
    assert_eq!(one, report["eu-1"]);
}
