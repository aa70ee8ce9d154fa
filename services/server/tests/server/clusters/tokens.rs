//! Registration tokens: limits on their creation, what they authorise (registering clusters
//! of their account, with their labels, up to their use limit) and what they do not.

use reqwest::Method;
use serde_json::{json, Value};

use super::registration::create_token;
use crate::support::fleet::{body, identity, refused, refused_at, Fleet};

#[tokio::test]
async fn tokens_are_created_within_limits_shown_once_and_listed_without_secrets() {
    let fleet = Fleet::start().await;
    let url = fleet.acme("/registration-tokens");
    let r = fleet
        .call(
            Method::POST,
            &url,
            &fleet.admin,
            Some(json!({ "description": "eu" })),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("JSON");
    let token = created["token"].as_str().expect("a secret");
    assert!(token.starts_with("flreg_"));
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().expect("time"))
            .expect("time");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().expect("time"))
            .expect("time");
    assert_eq!(
        (expires_at - created_at).num_seconds(),
        3600,
        "one hour by default"
    );
    assert_eq!(created["max_uses"], 1);
    assert_eq!(created["state"], "active");

    for (spec, field) in [
        (
            json!({ "description": "x", "ttl_seconds": 0 }),
            "/ttl_seconds",
        ),
        (
            json!({ "description": "x", "ttl_seconds": 7 * 24 * 3600 + 1 }),
            "/ttl_seconds",
        ),
        (json!({ "description": "x", "max_uses": 0 }), "/max_uses"),
        (json!({ "description": "" }), "/description"),
        (
            json!({ "description": "x", "labels": { "region": "a b" } }),
            "/labels/region",
        ),
    ] {
        refused_at(
            fleet
                .call(Method::POST, &url, &fleet.admin, Some(spec))
                .await,
            field,
        )
        .await;
    }
    let week = fleet
        .call(
            Method::POST,
            &url,
            &fleet.admin,
            Some(json!({ "description": "w", "ttl_seconds": 604800 })),
        )
        .await;
    assert_eq!(week.status(), 201, "seven days is allowed");

    let listed = fleet
        .call(Method::GET, &url, &fleet.admin, None)
        .await
        .text()
        .await
        .expect("text");
    assert!(!listed.contains(token), "never the secret");
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert!(token.starts_with(listed[1]["prefix"].as_str().expect("prefix")));
}

#[tokio::test]
async fn a_token_registers_up_to_its_limit_with_its_labels_and_nothing_else() {
    let fleet = Fleet::start().await;
    let token = create_token(
        &fleet,
        json!({ "description": "eu", "max_uses": 1, "labels": { "region": "eu-west-1" } }),
    )
    .await;
    let (ca, _) = identity("eu-1");
    let r = fleet
        .put("eu-1", &token, body(&ca, &[("tier", "prod")]))
        .await;
    assert_eq!(r.status(), 201);
    let r: Value = r.json().await.expect("JSON");
    assert_eq!(
        r["labels"],
        json!({ "region": "eu-west-1", "tier": "prod" }),
        "the token's labels apply"
    );
    // Retrying the same registration needs no use left; another cluster does.
    let again = fleet
        .put("eu-1", &token, body(&ca, &[("tier", "prod")]))
        .await;
    assert_eq!(again.status(), 200);
    let (other, _) = identity("eu-2");
    let used_up = refused(fleet.put("eu-2", &token, body(&other, &[])).await, 401).await;
    assert!(
        used_up["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no registrations left"),
        "{used_up}"
    );
    let listed: Value = fleet
        .get(&fleet.acme("/registration-tokens"), &fleet.admin)
        .await;
    assert_eq!(listed[0]["uses"], 1);
    assert_eq!(listed[0]["state"], "used-up");

    // A label the token fixes cannot be changed through it.
    let two = create_token(
        &fleet,
        json!({ "description": "eu", "max_uses": 5, "labels": { "region": "eu-west-1" } }),
    )
    .await;
    let problem = refused(
        fleet
            .put("eu-2", &two, body(&other, &[("region", "us-east-1")]))
            .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "/labels/region");
    // Not for another account, not for anything but registration.
    let foreign = fleet
        .call(
            Method::PUT,
            &fleet.flotilla.at("/api/v1/accounts/other/clusters/x"),
            &two,
            Some(body(&other, &[])),
        )
        .await;
    refused(foreign, 401).await;
    let elsewhere = refused(
        fleet
            .call(Method::GET, &fleet.acme("/clusters"), &two, None)
            .await,
        401,
    )
    .await;
    assert!(
        elsewhere["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("only registers clusters"),
        "{elsewhere}"
    );
    // Revoked: refused at once.
    let listed: Value = fleet
        .get(&fleet.acme("/registration-tokens"), &fleet.admin)
        .await;
    let id = listed[0]["id"].as_str().expect("id");
    let revoked = fleet
        .call(
            Method::DELETE,
            &fleet.acme(&format!("/registration-tokens/{id}")),
            &fleet.admin,
            None,
        )
        .await;
    assert_eq!(revoked.status(), 204);
    refused(fleet.put("eu-2", &two, body(&other, &[])).await, 401).await;
    let wrong = refused(
        fleet
            .put("eu-2", "flreg_000000000000_nope", body(&other, &[]))
            .await,
        401,
    )
    .await;
    assert!(
        wrong["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("registration token"),
        "{wrong}"
    );
}

#[tokio::test]
async fn viewers_read_clusters_but_only_admins_register_and_manage_tokens() {
    let fleet = Fleet::start().await;
    let (ca, _) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let expires = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    // API tokens cannot mint tokens: the developer makes the viewer's.
    let mut developer = fleet.flotilla.developer().await;
    let r = developer
        .json(
            Method::POST,
            &fleet.acme("/tokens"),
            Some(json!({ "name": "v", "role": "viewer", "expires_at": expires })),
            Some(&fleet.flotilla.url),
        )
        .await;
    let viewer: Value = r.json().await.expect("JSON");
    let viewer = viewer["token"].as_str().expect("token").to_owned();
    assert_eq!(
        fleet
            .call(Method::GET, &fleet.acme("/clusters/eu-1"), &viewer, None)
            .await
            .status(),
        200
    );
    refused(fleet.put("eu-1", &viewer, body(&ca, &[])).await, 403).await;
    refused(fleet.deregister("eu-1", &viewer).await, 403).await;
    refused(
        fleet
            .call(
                Method::POST,
                &fleet.acme("/registration-tokens"),
                &viewer,
                Some(json!({"description": "x"})),
            )
            .await,
        403,
    )
    .await;
    refused(
        fleet
            .call(Method::GET, &fleet.acme("/audit"), &viewer, None)
            .await,
        403,
    )
    .await;
}
