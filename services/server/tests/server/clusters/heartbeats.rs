//! Heartbeats and the status they give a cluster: ready, then stale and offline as they stop
//! (the sweeper), each transition an event and a metric; a heartbeat brings it back.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fleet::{identity, refused, refused_at, status_events, wait_for_events, Fleet};

#[tokio::test]
async fn status_follows_heartbeats_with_one_event_per_transition() {
    let fleet =
        Fleet::start_with(&["--cluster-stale-after", "1", "--cluster-offline-after", "2"]).await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let agent = fleet.assertion("eu-1", &leaf);
    let beat = fleet
        .call(
            Method::POST,
            &fleet.acme("/clusters/eu-1/heartbeat"),
            &agent,
            Some(json!({ "agent_version": "0.17.2", "figures": { "nodes": 3, "pods": 120 } })),
        )
        .await;
    assert_eq!(beat.status(), 200);
    let beat: Value = beat.json().await.expect("JSON");
    assert_eq!(beat["status"], "ready");
    assert_eq!(beat["previous_status"], "offline");
    assert_eq!(beat["stale_after_seconds"], 1);
    let now = fleet.cluster("eu-1").await;
    assert_eq!(now["status"], "ready");
    assert_eq!(now["agent_version"], "0.17.2");
    assert_eq!(now["figures"]["nodes"], 3.0);
    assert!(now["last_heartbeat_at"].is_string());

    // Silence: stale after 1 s, offline after 2 s, each recorded once by the sweeper.
    wait_for_events(
        &fleet,
        "eu-1",
        &["stale → offline", "ready → stale", "offline → ready"],
    )
    .await;
    assert_eq!(fleet.cluster("eu-1").await["status"], "offline");
    let metrics = fleet.metrics().await;
    assert!(
        metrics
            .contains("flotilla_cluster_status_transitions_total{from=\"ready\",to=\"stale\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("flotilla_clusters{status=\"offline\"} 1"),
        "{metrics}"
    );

    // Back: one more event, no more than one.
    assert_eq!(fleet.heartbeat("acme", "eu-1", &agent).await.status(), 200);
    assert_eq!(fleet.heartbeat("acme", "eu-1", &agent).await.status(), 200);
    let events = status_events(&fleet, "eu-1").await;
    assert_eq!(events.first().map(String::as_str), Some("offline → ready"));
    assert_eq!(events.len(), 4, "{events:?}");
}

#[tokio::test]
async fn a_heartbeat_is_bounded_and_checked() {
    let fleet = Fleet::start().await;
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let agent = fleet.assertion("eu-1", &leaf);
    let url = fleet.acme("/clusters/eu-1/heartbeat");
    let too_many: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("f{i}"), json!(i))).collect();
    for (body, field) in [
        (json!({ "agent_version": "" }), "/agent_version"),
        (
            json!({ "agent_version": "1", "figures": too_many }),
            "/figures",
        ),
        (
            json!({ "agent_version": "1", "figures": { "Bad Name": 1 } }),
            "/figures/Bad Name",
        ),
    ] {
        refused_at(
            fleet.call(Method::POST, &url, &agent, Some(body)).await,
            field,
        )
        .await;
    }
    // People do not heartbeat: the endpoint asks for an assertion.
    let problem = refused(
        fleet
            .call(
                Method::POST,
                &url,
                &fleet.admin,
                Some(json!({"agent_version": "1"})),
            )
            .await,
        401,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("cluster assertion"),
        "{problem}"
    );
}
