//! Global DNS end to end: agents report endpoints, and the records appear in real providers:
//! PowerDNS (answers checked with `dig`) and moto's Route53 (record sets listed through its
//! API). Faults come from a proxy in front of the provider: outages, throttling, a refused
//! change, answers lost after the change was applied.

mod crash;
mod endpoint_sets;
mod endpoints;
mod failover;
mod pdns;
mod route53;

use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::support::eventually::eventually;
use crate::support::fleet::{body, identity, Fleet};
use crate::support::pki::Leaf;
use crate::support::prometheus::metric;

/// The account domain of `acme` under the default base domain.
pub const DOMAIN: &str = "acme.flotilla.localhost";

/// `<label>.acme.flotilla.localhost`.
pub fn host(label: &str) -> String {
    format!("{label}.{DOMAIN}")
}

/// Registers `cluster` of `acme` in `region` and makes it ready with a heartbeat; its agent's
/// leaf.
pub async fn ready_cluster(fleet: &Fleet, cluster: &str, region: &str) -> Leaf {
    let (ca, leaf) = identity(cluster);
    let r = fleet
        .put(cluster, &fleet.admin, body(&ca, &[("region", region)]))
        .await;
    assert_eq!(r.status(), 201, "register {cluster}");
    let r = fleet
        .heartbeat("acme", cluster, &fleet.assertion(cluster, &leaf))
        .await;
    assert_eq!(r.status(), 200, "heartbeat of {cluster}");
    leaf
}

/// Clusters `use1` (us-east-1) and `euw1` (eu-west-1) of `acme`, ready and kept so by their
/// agents' heartbeats in the background (without them a cluster leaves DNS once it is stale,
/// 8 s after its last heartbeat by default); their agents' leaves, and the heartbeats.
pub async fn beating_clusters(fleet: &Fleet) -> (Leaf, Leaf, Heartbeats) {
    let use1 = ready_cluster(fleet, "use1", "us-east-1").await;
    let euw1 = ready_cluster(fleet, "euw1", "eu-west-1").await;
    let beats = Heartbeats::start(fleet, &[("use1", &use1), ("euw1", &euw1)]);
    (use1, euw1, beats)
}

/// `PUT` of `cluster`'s endpoint for `host`, with its agent's assertion.
pub async fn report(
    fleet: &Fleet,
    cluster: &str,
    leaf: &Leaf,
    host: &str,
    report: Value,
) -> Response {
    let url = fleet.acme(&format!("/clusters/{cluster}/endpoints/{host}"));
    fleet
        .call(
            Method::PUT,
            &url,
            &fleet.assertion(cluster, leaf),
            Some(report),
        )
        .await
}

/// Reports `targets` (healthy) and expects it accepted.
pub async fn serve(fleet: &Fleet, cluster: &str, leaf: &Leaf, host: &str, targets: &[&str]) {
    let r = report(fleet, cluster, leaf, host, json!({ "targets": targets })).await;
    assert!(
        r.status() == 200 || r.status() == 201,
        "report {cluster} {host}: {}",
        r.status()
    );
}

/// Reports `cluster`'s endpoint for `host` unhealthy (same targets).
pub async fn unhealthy(fleet: &Fleet, cluster: &str, leaf: &Leaf, host: &str, targets: &[&str]) {
    let r = report(
        fleet,
        cluster,
        leaf,
        host,
        json!({ "targets": targets, "healthy": false }),
    )
    .await;
    assert_eq!(r.status(), 200, "report {cluster} {host} unhealthy");
}

/// The account's record sets (`GET .../dns/records`).
pub async fn records(fleet: &Fleet) -> Vec<Value> {
    let v = fleet.get(&fleet.acme("/dns/records"), &fleet.admin).await;
    v["records"]
        .as_array()
        .unwrap_or_else(|| panic!("records: {v}"))
        .clone()
}

/// The account's changes, newest first (`GET .../dns/changes`).
pub async fn changes(fleet: &Fleet, query: &str) -> Vec<Value> {
    let v = fleet
        .get(&fleet.acme(&format!("/dns/changes{query}")), &fleet.admin)
        .await;
    v["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("changes: {v}"))
        .clone()
}

/// Whether every record set of `host` is applied (and there is at least one).
pub async fn host_applied(fleet: &Fleet, host: &str) -> bool {
    let sets: Vec<Value> = records(fleet)
        .await
        .into_iter()
        .filter(|r| r["host"] == host)
        .collect();
    !sets.is_empty() && sets.iter().all(|r| r["status"] == "applied")
}

/// Heartbeats of some clusters of `acme`, every 300 ms in the background, each while it is
/// switched on.
pub struct Heartbeats {
    on: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeats {
    /// Starts beating for `clusters` (name and agent leaf), all switched on.
    pub fn start(fleet: &Fleet, clusters: &[(&str, &Leaf)]) -> Heartbeats {
        let beats: Vec<(String, String, String)> = clusters
            .iter()
            .map(|(name, leaf)| {
                let url = fleet.acme(&format!("/clusters/{name}/heartbeat"));
                (name.to_string(), url, fleet.assertion(name, leaf))
            })
            .collect();
        let on = std::sync::Arc::new(std::sync::Mutex::new(
            beats
                .iter()
                .map(|(name, _, _)| name.clone())
                .collect::<std::collections::BTreeSet<_>>(),
        ));
        let (switch, http) = (on.clone(), fleet.http.clone());
        let task = tokio::spawn(async move {
            loop {
                for (name, url, assertion) in &beats {
                    if switch.lock().expect("switches").contains(name) {
                        let _ = http
                            .post(url)
                            .bearer_auth(assertion)
                            .json(&json!({ "agent_version": "0.17.2" }))
                            .send()
                            .await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        Heartbeats { on, task }
    }

    /// Switches `cluster`'s heartbeats on or off.
    pub fn set(&self, cluster: &str, beating: bool) {
        let mut on = self.on.lock().expect("switches");
        if beating {
            on.insert(cluster.to_owned());
        } else {
            on.remove(cluster);
        }
    }
}

impl Drop for Heartbeats {
    fn drop(&mut self) {
        self.task.abort();
    }
}
