//! The audit log: every registration, rotation, deregistration, token creation and
//! revocation, and membership change, with its actor, time, request id and source address;
//! newest first, in pages.

use reqwest::Method;
use serde_json::{json, Value};

use super::registration::create_token;
use crate::support::fleet::{body, identity, Fleet};

#[tokio::test]
async fn changes_are_audited_with_actor_request_and_source_newest_first() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    let registered = fleet.put("eu-1", &fleet.admin, body(&ca, &[])).await;
    let request_id = registered
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    let token = create_token(&fleet, json!({ "description": "rebuilds" })).await;
    let (second, _) = identity("eu-2");
    assert_eq!(
        fleet.put("eu-2", &token, body(&second, &[])).await.status(),
        201
    );
    let agent = fleet.assertion("eu-1", &leaf);
    let (rotated, _) = identity("eu-1");
    assert_eq!(
        fleet
            .put("eu-1", &agent, body(&rotated, &[]))
            .await
            .status(),
        200
    );
    assert_eq!(fleet.deregister("eu-2", &fleet.admin).await.status(), 204);
    let mut developer = fleet.flotilla.developer().await;
    let added = developer
        .json(
            Method::POST,
            &fleet.acme("/members"),
            Some(json!({ "email": "ada@example.com", "role": "viewer" })),
            Some(&fleet.flotilla.url),
        )
        .await;
    assert_eq!(added.status(), 201);

    let log: Value = fleet.get(&fleet.acme("/audit"), &fleet.admin).await;
    let events = log["events"].as_array().expect("events");
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("action"), s("actor_kind"), s("target"))
        })
        .collect();
    let expected = [
        ("member.invited", "person", "ada@example.com"),
        ("cluster.deregistered", "api-token", "eu-2"),
        ("cluster.rotated", "cluster", "eu-1"),
        ("cluster.registered", "registration-token", "eu-2"),
        ("registration-token.created", "api-token", "rebuilds"),
        ("cluster.registered", "api-token", "eu-1"),
        ("api-token.created", "person", "t"),
    ];
    for (i, (action, kind, target)) in expected.iter().enumerate() {
        assert_eq!(
            (
                summary[i].0.as_str(),
                summary[i].1.as_str(),
                summary[i].2.as_str()
            ),
            (*action, *kind, *target),
            "{summary:?}"
        );
    }
    assert_eq!(
        summary.last().map(|s| s.0.as_str()),
        Some("account.created")
    );
    let registration = &events[5];
    assert_eq!(registration["request_id"], request_id);
    assert_eq!(registration["source"], "127.0.0.1");
    assert!(
        events[2]["actor"]
            .as_str()
            .unwrap_or_default()
            .contains("spiffe://eu-1/"),
        "{}",
        events[2]
    );
    assert_eq!(events[0]["actor"], "developer@localhost");

    // Pages of two, newest first, without gaps or repeats.
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let url = match before {
            Some(b) => fleet.acme(&format!("/audit?limit=2&before={b}")),
            None => fleet.acme("/audit?limit=2"),
        };
        let page: Value = fleet.get(&url, &fleet.admin).await;
        seen.extend(
            page["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|e| e["id"].as_i64().expect("id")),
        );
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    let all: Vec<i64> = events
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(seen, all);
    let bad = fleet
        .call(
            Method::GET,
            &fleet.acme("/audit?limit=0"),
            &fleet.admin,
            None,
        )
        .await;
    assert_eq!(bad.status(), 422);
}
