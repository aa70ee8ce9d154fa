//! Fast failover with damping: a cluster is `stale` (and out of DNS) a few seconds after its
//! last heartbeat, and a stale cluster is `ready` again only once its heartbeats have kept
//! coming, without a gap as long as the stale threshold, for `FLOTILLA_CLUSTER_RECOVER_AFTER`;
//! a new cluster, or one back from `offline`, is ready at its first. (What DNS does meanwhile
//! is in `dns::failover`.)

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::app::test_settings;
use crate::support::fleet::{identity, status_events, wait_for_events, Fleet};
use crate::support::prometheus::metric;

/// Registers `cluster` of `acme`; an assertion of its agent.
async fn registered(fleet: &Fleet, cluster: &str) -> String {
    let (ca, leaf) = identity(cluster);
    fleet.register(cluster, &ca).await;
    fleet.assertion(cluster, &leaf)
}

/// A heartbeat of `cluster` of `acme` with `assertion`, expected accepted; its answer.
async fn beat(fleet: &Fleet, cluster: &str, assertion: &str) -> Value {
    let r = fleet.heartbeat("acme", cluster, assertion).await;
    assert_eq!(r.status(), 200, "heartbeat of {cluster}");
    r.json().await.expect("JSON")
}

/// Asserts a heartbeat's answer says `status`, and `previous` before it.
#[track_caller]
fn acked(ack: &Value, status: &str, previous: &str) {
    assert_eq!(
        (ack["status"].as_str(), ack["previous_status"].as_str()),
        (Some(status), Some(previous)),
        "{ack}"
    );
}

#[test]
fn by_default_a_cluster_is_stale_after_8_s_and_ready_again_after_4_s_of_heartbeats() {
    let settings = test_settings(&[]);
    assert_eq!(
        settings.clusters.cluster_stale_after.0,
        Duration::from_secs(8)
    );
    assert_eq!(
        settings.clusters.cluster_recover_after.0,
        Duration::from_secs(4)
    );
    assert_eq!(
        settings.clusters.cluster_offline_after.0,
        Duration::from_secs(300)
    );
    let settings = test_settings(&["--cluster-recover-after", "0"]);
    assert_eq!(settings.clusters.cluster_recover_after.0, Duration::ZERO);
}

#[tokio::test]
async fn a_silent_cluster_turns_stale_and_is_ready_again_only_once_its_heartbeats_are_steady() {
    let fleet =
        Fleet::start_with(&["--cluster-stale-after", "2", "--cluster-recover-after", "2"]).await;
    let agent = registered(&fleet, "eu-1").await;
    let first = beat(&fleet, "eu-1", &agent).await;
    acked(&first, "ready", "offline");
    assert_eq!(first["stale_after_seconds"], 2);

    // Silent for the threshold: stale, recorded once by the sweeper.
    wait_for_events(&fleet, "eu-1", &["ready → stale", "offline → ready"]).await;
    assert_eq!(fleet.cluster("eu-1").await["status"], "stale");

    // Back, but a late agent: each beat comes after a gap as long as the threshold, so each
    // starts the recovery over and the cluster stays stale (it left DNS once, and stays out).
    acked(&beat(&fleet, "eu-1", &agent).await, "stale", "stale");
    assert_eq!(fleet.cluster("eu-1").await["status"], "stale");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let steady_from = Instant::now();
    acked(&beat(&fleet, "eu-1", &agent).await, "stale", "stale");

    // Steady beats: stale until they have kept coming for 2 s, then ready.
    let ready_after = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ack = beat(&fleet, "eu-1", &agent).await;
        if ack["status"] == "ready" {
            acked(&ack, "ready", "stale");
            break steady_from.elapsed();
        }
        acked(&ack, "stale", "stale");
        assert_eq!(fleet.cluster("eu-1").await["status"], "stale");
        assert!(
            steady_from.elapsed() < Duration::from_secs(10),
            "still stale after 10 s of steady heartbeats"
        );
    };
    assert!(
        ready_after >= Duration::from_secs(2),
        "ready after {ready_after:?} of heartbeats, before the recovery time"
    );
    assert_eq!(fleet.cluster("eu-1").await["status"], "ready");
    assert_eq!(
        status_events(&fleet, "eu-1").await,
        ["stale → ready", "ready → stale", "offline → ready"]
    );
    let metrics = fleet.metrics().await;
    for (from, to) in [("ready", "stale"), ("stale", "ready")] {
        let series =
            format!("flotilla_cluster_status_transitions_total{{from=\"{from}\",to=\"{to}\"}}");
        assert_eq!(
            metric(&metrics, &series),
            Some(1.0),
            "{series} in {metrics}"
        );
    }
}

#[tokio::test]
async fn a_new_cluster_and_one_back_from_offline_are_ready_at_their_first_heartbeat() {
    // A recovery time far longer than the test: it applies to stale clusters only.
    let fleet = Fleet::start_with(&[
        "--cluster-stale-after",
        "1",
        "--cluster-offline-after",
        "2",
        "--cluster-recover-after",
        "600",
    ])
    .await;
    let agent = registered(&fleet, "eu-1").await;
    assert_eq!(fleet.cluster("eu-1").await["status"], "offline");
    acked(&beat(&fleet, "eu-1", &agent).await, "ready", "offline");
    assert_eq!(fleet.cluster("eu-1").await["status"], "ready");

    wait_for_events(
        &fleet,
        "eu-1",
        &["stale → offline", "ready → stale", "offline → ready"],
    )
    .await;
    acked(&beat(&fleet, "eu-1", &agent).await, "ready", "offline");
    assert_eq!(fleet.cluster("eu-1").await["status"], "ready");
    assert_eq!(
        status_events(&fleet, "eu-1")
            .await
            .first()
            .map(String::as_str),
        Some("offline → ready")
    );
}

#[tokio::test]
async fn without_a_recovery_time_a_stale_cluster_is_ready_at_its_first_heartbeat() {
    let fleet =
        Fleet::start_with(&["--cluster-stale-after", "1", "--cluster-recover-after", "0"]).await;
    let agent = registered(&fleet, "eu-1").await;
    acked(&beat(&fleet, "eu-1", &agent).await, "ready", "offline");
    wait_for_events(&fleet, "eu-1", &["ready → stale", "offline → ready"]).await;

    acked(&beat(&fleet, "eu-1", &agent).await, "ready", "stale");
    assert_eq!(fleet.cluster("eu-1").await["status"], "ready");
    assert_eq!(
        status_events(&fleet, "eu-1").await,
        ["stale → ready", "ready → stale", "offline → ready"]
    );
}
