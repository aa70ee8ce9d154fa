use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{bundle_map, key_params, token_of_acme};
use crate::support::fleet::{identity, refused, Fleet};
use crate::support::pki::{key, Alg};

/// The public JWK of a fresh key of `alg`, with `kid`.
pub fn public_jwk(alg: Alg, kid: &str) -> Value {
    let pair = key(alg);
    let der = rcgen::PublicKeyData::subject_public_key_info(&pair);
    let (_, spki) = SubjectPublicKeyInfo::from_der(&der).expect("SPKI");
    let mut jwk = key_params(&spki);
    let alg = match jwk["crv"].as_str() {
        Some("P-256") => "ES256",
        Some(_) => "ES384",
        None => "RS256",
    };
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk["alg"] = json!(alg);
    jwk
}

#[tokio::test]
async fn a_cluster_publishes_jwt_authorities_in_its_bundle() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let agent = fleet.assertion("eu-1", &leaf);
    let url = fleet.acme("/clusters/eu-1/jwt-authorities");
    let (_, before) = bundle_map(&fleet, &fleet.admin).await;
    let first = before["trust_domains"]["eu-1"]["spiffe_sequence"]
        .as_i64()
        .expect("sequence");

    // The cluster's own agent publishes its service-account issuer's keys.
    let rsa = public_jwk(Alg::Rsa, "sa-2026");
    let ec = public_jwk(Alg::P256, "sa-ec");
    let set = json!({ "keys": [rsa, ec] });
    let r = fleet
        .call(Method::PUT, &url, &agent, Some(set.clone()))
        .await;
    assert_eq!(r.status(), 200);
    let published: Value = r.json().await.expect("JSON");
    assert_eq!(published["changed"], true);
    let sequence = published["spiffe_sequence"].as_i64().expect("sequence");
    assert!(sequence > first);

    let (_, map) = bundle_map(&fleet, &agent).await;
    let bundle = &map["trust_domains"]["eu-1"];
    assert_eq!(bundle["spiffe_sequence"], sequence);
    let jwt: Vec<&Value> = bundle["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["use"] == "jwt-svid")
        .collect();
    assert_eq!(jwt.len(), 2);
    assert_eq!(jwt[0]["kid"], "sa-2026");
    assert_eq!(jwt[0]["n"], set["keys"][0]["n"]);
    assert_eq!(jwt[1]["kid"], "sa-ec");
    assert_eq!(jwt[1]["x"], set["keys"][1]["x"]);
    assert_eq!(
        bundle["keys"].as_array().expect("keys").len(),
        3,
        "the CA and two keys"
    );

    // The same set again changes nothing, and keeps the sequence.
    let again: Value = fleet
        .call(Method::PUT, &url, &fleet.admin, Some(set))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(again["changed"], false);
    assert_eq!(again["spiffe_sequence"], sequence);
    let read = fleet
        .get(&url, &token_of_acme(&fleet, "viewer").await)
        .await;
    assert_eq!(read["keys"].as_array().expect("keys").len(), 2);
    assert!(read.get("changed").is_none());

    // An empty set withdraws them.
    let cleared: Value = fleet
        .call(Method::PUT, &url, &agent, Some(json!({ "keys": [] })))
        .await
        .json()
        .await
        .expect("JSON");
    assert!(cleared["spiffe_sequence"].as_i64() > Some(sequence));
    let (_, map) = bundle_map(&fleet, &agent).await;
    assert_eq!(
        map["trust_domains"]["eu-1"]["keys"]
            .as_array()
            .expect("keys")
            .len(),
        1
    );

    // Who may not: a viewer, another cluster's agent, another account's admin.
    let viewer = token_of_acme(&fleet, "viewer").await;
    let empty = Some(json!({ "keys": [] }));
    refused(
        fleet.call(Method::PUT, &url, &viewer, empty.clone()).await,
        403,
    )
    .await;
    let (us, us_leaf) = identity("us-1");
    fleet.register("us-1", &us).await;
    let us_agent = fleet.assertion("us-1", &us_leaf);
    refused(
        fleet
            .call(Method::PUT, &url, &us_agent, empty.clone())
            .await,
        403,
    )
    .await;
    refused(
        fleet
            .call(Method::PUT, &url, &fleet.other_admin, empty)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn malformed_jwk_sets_are_refused_with_the_member_and_the_reason() {
    let fleet = Fleet::start().await;
    let (ca, _) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let url = fleet.acme("/clusters/eu-1/jwt-authorities");
    let good = public_jwk(Alg::P256, "k1");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut key = good.clone();
        change(&mut key);
        json!({ "keys": [key] })
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|k| k["d"] = json!("c2VjcmV0")),
            "/keys/0/d",
            "private",
        ),
        (
            json!({ "keys": [good.clone(), good.clone()] }),
            "/keys/1/kid",
            "already",
        ),
        (
            with(&|k| {
                k.as_object_mut().expect("object").remove("kid");
            }),
            "/keys/0/kid",
            "needs a kid",
        ),
        (with(&|k| k["alg"] = json!("HS256")), "/keys/0/alg", "HS256"),
        (with(&|k| k["alg"] = json!("ES384")), "/keys/0/alg", "ES256"),
        (
            json!({ "keys": [{ "kty": "oct", "kid": "s", "k": "c2VjcmV0" }] }),
            "/keys/0/k",
            "private",
        ),
        (
            json!({ "keys": [{ "kty": "OKP", "kid": "e", "crv": "Ed25519", "x": "AA" }] }),
            "/keys/0/kty",
            "RSA and EC",
        ),
        (
            with(&|k| k["x"] = json!("not base64!")),
            "/keys/0/x",
            "base64url",
        ),
        (
            with(&|k| k["y"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]))),
            "/keys/0/x",
            "not a point",
        ),
        (with(&|k| k["use"] = json!("enc")), "/keys/0/use", "enc"),
        (json!({ "keys": {} }), "/keys", "array"),
        (
            json!({ "keys": [], "spiffe_sequence": 9 }),
            "/spiffe_sequence",
            "Flotilla sets",
        ),
        (
            json!({ "keys": (0..33).map(|i| public_jwk(Alg::P256, &format!("k{i}"))).collect::<Vec<_>>() }),
            "/keys",
            "at most 32",
        ),
    ];
    for (set, field, words) in cases {
        let problem = refused(
            fleet
                .call(Method::PUT, &url, &fleet.admin, Some(set.clone()))
                .await,
            422,
        )
        .await;
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["field"] == field
                && e["message"].as_str().unwrap_or_default().contains(words)),
            "{set}: expected {field} saying {words:?}, got {problem}"
        );
    }
    // Not JSON at all, and too large.
    let r = fleet
        .http
        .put(&url)
        .bearer_auth(&fleet.admin)
        .header("content-type", "application/json")
        .body("{\"keys\": [")
        .send()
        .await
        .expect("a response");
    let problem = refused(r, 422).await;
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("not a JSON document"));
    let r = fleet
        .http
        .put(&url)
        .bearer_auth(&fleet.admin)
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .expect("a response");
    let problem = refused(r, 422).await;
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("at most 65536"));
    // Nothing was published by any of them.
    let (_, map) = bundle_map(&fleet, &fleet.admin).await;
    assert_eq!(
        map["trust_domains"]["eu-1"]["keys"]
            .as_array()
            .expect("keys")
            .len(),
        1
    );
}
