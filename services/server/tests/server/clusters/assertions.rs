//! The cluster-assertion failure matrix, each refusal a 401 problem that says why, and the
//! shapes that must work: ES256, ES384, RS256, PS256, chains through an intermediate, and an
//! x5c that carries the identity CA itself.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fleet::{agent_id, identity, refused, Fleet};
use crate::support::pki::{next_year, Alg, Ca};

/// Expects the heartbeat with `assertion` to be refused with 401 naming `reason`.
async fn expect_refused(fleet: &Fleet, cluster: &str, assertion: &str, reason: &str) {
    let r = fleet.heartbeat("acme", cluster, assertion).await;
    let problem = refused(r, 401).await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("({reason})")),
        "expected the reason {reason:?}: {detail}"
    );
}

fn claims(aud: &str, sub: &str, iat_offset: i64, lifetime: i64) -> Value {
    let now = chrono::Utc::now().timestamp() + iat_offset;
    json!({ "aud": aud, "sub": sub, "iat": now, "exp": now + lifetime })
}

#[tokio::test]
async fn every_bad_assertion_is_refused_with_its_reason() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let aud = fleet.flotilla.url.clone();
    let sub = agent_id("eu-1");
    assert_eq!(
        fleet
            .heartbeat("acme", "eu-1", &fleet.assertion("eu-1", &leaf))
            .await
            .status(),
        200
    );

    // A CA that is not registered.
    let (stranger, stranger_leaf) = identity("eu-1");
    let _ = stranger;
    expect_refused(
        &fleet,
        "eu-1",
        &fleet.assertion("eu-1", &stranger_leaf),
        "chain",
    )
    .await;
    // An expired leaf.
    let old_leaf = ca.leaf_with(&sub, Alg::P256, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    expect_refused(&fleet, "eu-1", &fleet.assertion("eu-1", &old_leaf), "chain").await;
    // A leaf that may not sign.
    let no_sign = ca.leaf_with(&sub, Alg::P256, |p| {
        p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
    });
    expect_refused(&fleet, "eu-1", &fleet.assertion("eu-1", &no_sign), "chain").await;
    // An intermediate that is not valid yet.
    let future = ca.intermediate("future", |p| {
        p.not_before = rcgen::date_time_ymd(next_year(), 1, 1)
    });
    let under_future = future.leaf(&sub, Alg::P256);
    let a = under_future.assertion(&aud, &sub, &[future.der()]);
    expect_refused(&fleet, "eu-1", &a, "chain").await;
    // An x5c that is not a chain: the leaf, then an unrelated CA.
    let unrelated = Ca::root("unrelated", Alg::P256);
    let a = leaf.assertion(&aud, &sub, &[unrelated.der()]);
    expect_refused(&fleet, "eu-1", &a, "chain").await;
    // The wrong audience, and an audience among others.
    let a = leaf.sign(
        "ES256",
        &[],
        &claims("https://elsewhere.example.com", &sub, 0, 60),
    );
    expect_refused(&fleet, "eu-1", &a, "audience").await;
    let mut several = claims(&aud, &sub, 0, 60);
    several["aud"] = json!([aud, "https://elsewhere.example.com"]);
    expect_refused(
        &fleet,
        "eu-1",
        &leaf.sign("ES256", &[], &several),
        "audience",
    )
    .await;
    // Too long a lifetime.
    let a = leaf.sign("ES256", &[], &claims(&aud, &sub, 0, 301));
    expect_refused(&fleet, "eu-1", &a, "lifetime").await;
    // Expired beyond the 60 s of tolerated skew; and issued beyond it in the future.
    let a = leaf.sign("ES256", &[], &claims(&aud, &sub, -400, 300));
    expect_refused(&fleet, "eu-1", &a, "expired").await;
    let a = leaf.sign("ES256", &[], &claims(&aud, &sub, 120, 60));
    expect_refused(&fleet, "eu-1", &a, "expired").await;
    // Within the tolerated skew: expired 30 s ago.
    let a = leaf.sign("ES256", &[], &claims(&aud, &sub, -90, 60));
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &a).await.status(),
        200,
        "30 s of skew is tolerated"
    );
    // alg: none.
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "none", "x5c": [STANDARD.encode(&leaf.der)] }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims(&aud, &sub, 0, 60).to_string());
    expect_refused(&fleet, "eu-1", &format!("{header}.{payload}."), "algorithm").await;
    // HS256 keyed with the CA's public key (the classic algorithm confusion).
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "HS256", "x5c": [STANDARD.encode(&leaf.der)] }).to_string());
    let input = format!("{header}.{payload}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, ca.issuer.key().public_key_raw());
    let mac = ring::hmac::sign(&key, input.as_bytes());
    let hs = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    expect_refused(&fleet, "eu-1", &hs, "algorithm").await;
    // An algorithm that does not fit the key (ES384 with a P-256 leaf).
    let a = leaf.sign("ES256", &[], &claims(&aud, &sub, 0, 60));
    let (head, rest) = a.split_once('.').expect("a JWT");
    let _ = head;
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "ES384", "x5c": [STANDARD.encode(&leaf.der)] }).to_string());
    expect_refused(&fleet, "eu-1", &format!("{header}.{rest}"), "algorithm").await;
    // A signature by another key than the leaf's.
    let other = ca.leaf(&sub, Alg::P256);
    let signed_by_other = other.sign("ES256", &[], &claims(&aud, &sub, 0, 60));
    let (_, tail) = signed_by_other.split_once('.').expect("a JWT");
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "ES256", "x5c": [STANDARD.encode(&leaf.der)] }).to_string());
    expect_refused(&fleet, "eu-1", &format!("{header}.{tail}"), "signature").await;
    // A subject in another trust domain.
    let a = leaf.sign("ES256", &[], &claims(&aud, &agent_id("us-1"), 0, 60));
    expect_refused(&fleet, "eu-1", &a, "claims").await;
    // Garbage in x5c.
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "ES256", "x5c": ["***"] }).to_string());
    expect_refused(&fleet, "eu-1", &format!("{header}.{payload}.sig"), "chain").await;
}

#[tokio::test]
async fn agents_act_only_for_their_own_cluster_and_account() {
    let fleet = Fleet::start().await;
    let (eu, eu_leaf) = identity("eu-1");
    let (us, _) = identity("us-1");
    fleet.register("eu-1", &eu).await;
    fleet.register("us-1", &us).await;
    let eu_agent = fleet.assertion("eu-1", &eu_leaf);

    // Another cluster of the same account: forbidden, saying whose assertion it is.
    let r = fleet.heartbeat("acme", "us-1", &eu_agent).await;
    let problem = refused(r, 403).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("eu-1"),
        "{problem}"
    );
    let r = fleet
        .put("us-1", &eu_agent, crate::support::fleet::body(&eu, &[]))
        .await;
    refused(r, 403).await;
    // Agents are not members: the member endpoints refuse them.
    let r = fleet
        .call(Method::GET, &fleet.acme("/clusters"), &eu_agent, None)
        .await;
    refused(r, 401).await;
    let r = fleet.deregister("eu-1", &eu_agent).await;
    refused(r, 401).await;

    // A cluster of another account, with the same name, cannot reach acme's, and the answer
    // does not say whether acme has such a cluster.
    let (foreign, foreign_leaf) = identity("eu-1");
    let r = fleet
        .call(
            Method::PUT,
            &fleet.flotilla.at("/api/v1/accounts/other/clusters/eu-1"),
            &fleet.other_admin,
            Some(crate::support::fleet::body(&foreign, &[])),
        )
        .await;
    assert_eq!(r.status(), 201);
    let foreign_agent = fleet.assertion("eu-1", &foreign_leaf);
    assert_eq!(
        fleet
            .heartbeat("other", "eu-1", &foreign_agent)
            .await
            .status(),
        200
    );
    let to_acme = refused(fleet.heartbeat("acme", "eu-1", &foreign_agent).await, 401).await;
    let to_nowhere = refused(
        fleet.heartbeat("nowhere", "eu-1", &foreign_agent).await,
        401,
    )
    .await;
    assert_eq!(
        to_acme["detail"], to_nowhere["detail"],
        "the same answer either way"
    );
    // And acme's agent reaches nothing of `other`.
    refused(fleet.heartbeat("other", "eu-1", &eu_agent).await, 401).await;

    // It can see who it is to Flotilla.
    let me: Value = fleet
        .get(&fleet.acme("/clusters/eu-1/whoami"), &eu_agent)
        .await;
    assert_eq!(me["account"], "acme");
    assert_eq!(me["cluster"], "eu-1");
    assert_eq!(me["subject"], agent_id("eu-1"));
    refused(
        fleet
            .call(
                Method::GET,
                &fleet.acme("/clusters/us-1/whoami"),
                &eu_agent,
                None,
            )
            .await,
        403,
    )
    .await;

    // Its own cluster it may read.
    let own = fleet
        .call(Method::GET, &fleet.acme("/clusters/eu-1"), &eu_agent, None)
        .await;
    assert_eq!(own.status(), 200);
    let other = fleet
        .call(Method::GET, &fleet.acme("/clusters/us-1"), &eu_agent, None)
        .await;
    refused(other, 403).await;
}

#[tokio::test]
async fn es384_rs256_ps256_intermediates_and_an_included_root_all_verify() {
    let fleet = Fleet::start().await;
    let aud = fleet.flotilla.url.clone();
    let sub = agent_id("eu-1");
    let ca = Ca::root("eu-1 identity CA", Alg::P384);
    fleet.register("eu-1", &ca).await;

    let p384 = ca.leaf(&sub, Alg::P384);
    assert_eq!(p384.default_alg(), "ES384");
    assert_eq!(
        fleet
            .heartbeat("acme", "eu-1", &fleet.assertion("eu-1", &p384))
            .await
            .status(),
        200
    );

    let rsa = ca.leaf(&sub, Alg::Rsa);
    for alg in ["RS256", "PS256"] {
        let a = rsa.sign(alg, &[], &claims(&aud, &sub, 0, 300));
        assert_eq!(
            fleet.heartbeat("acme", "eu-1", &a).await.status(),
            200,
            "{alg}"
        );
    }

    let intermediate = ca.intermediate("eu-1 intermediate", |_| {});
    let leaf = intermediate.leaf(&sub, Alg::P256);
    let chained = leaf.assertion(&aud, &sub, &[intermediate.der()]);
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &chained).await.status(),
        200,
        "through an intermediate"
    );
    let with_root = leaf.assertion(&aud, &sub, &[intermediate.der(), ca.der()]);
    assert_eq!(
        fleet.heartbeat("acme", "eu-1", &with_root).await.status(),
        200,
        "the CA itself in x5c"
    );
    let missing = leaf.assertion(&aud, &sub, &[]);
    let r = refused(fleet.heartbeat("acme", "eu-1", &missing).await, 401).await;
    assert!(
        r["detail"].as_str().unwrap_or_default().contains("(chain)"),
        "{r}"
    );
    let only_ca = {
        let header = URL_SAFE_NO_PAD
            .encode(json!({ "alg": "ES256", "x5c": [STANDARD.encode(ca.der())] }).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims(&aud, &sub, 0, 60).to_string());
        format!("{header}.{payload}.c2ln")
    };
    let r = refused(fleet.heartbeat("acme", "eu-1", &only_ca).await, 401).await;
    assert!(
        r["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("leaf certificate"),
        "{r}"
    );
}

#[tokio::test]
async fn an_identity_ca_that_is_not_valid_yet_anchors_nothing() {
    // Registration refuses such a CA; one stored while clocks disagreed must not anchor
    // assertions either.
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let future = Ca::root_with("eu-1 identity CA", Alg::P256, |p| {
        p.not_before = rcgen::date_time_ymd(next_year(), 1, 1);
    });
    let future_leaf = future.leaf(&agent_id("eu-1"), Alg::P256);
    let subject = x509_subject(&future.der());
    sqlx::query!(
        "INSERT INTO cluster_identity_cas (cluster_id, sha256, certificate, subject) \
         SELECT id, sha256(decode('00', 'hex')), $1, $2 FROM clusters WHERE name = 'eu-1'",
        future.der(),
        subject,
    )
    .execute(&fleet.flotilla.ctx.db)
    .await
    .expect("stored");
    let r = refused(
        fleet
            .heartbeat("acme", "eu-1", &fleet.assertion("eu-1", &future_leaf))
            .await,
        401,
    )
    .await;
    assert!(
        r["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid yet"),
        "{r}"
    );
    assert_eq!(
        fleet
            .heartbeat("acme", "eu-1", &fleet.assertion("eu-1", &leaf))
            .await
            .status(),
        200
    );
}

/// The DER of a certificate's subject name.
fn x509_subject(der: &[u8]) -> Vec<u8> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("a certificate");
    cert.subject().as_raw().to_vec()
}
