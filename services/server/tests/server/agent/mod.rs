//! flotilla-agent end to end: the real agent binary against the real server (on real
//! Postgres, with PowerDNS answering `dig`) and, for each cluster, kmock's Kubernetes API
//! emulator over HTTP, through the agent's own kube-rs client.

mod clusters;
mod directory;
pub mod peers;
mod refusals;
mod resilience;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::eventually::eventually;
use crate::support::server_binary::Flotilla;
use peers::Agent;

/// The account's zone under the default base domain.
pub const ZONE: &str = "acme.flotilla.localhost";

/// `<label>.acme.flotilla.localhost`.
pub fn host(label: &str) -> String {
    format!("{label}.{ZONE}")
}

/// Waits until `/readyz` answers 200; its body. On time out, fails showing what `/readyz` said
/// last and the agent's log.
pub async fn ready(agent: &Agent, within: Duration) -> Value {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < within {
        match agent.readyz().await {
            Some((200, body)) => return body,
            other => last = other,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the agent is not ready within {within:?}; /readyz said {last:?}; its log:\n{}",
        agent.logs()
    );
}

/// Waits until `dig` answers exactly `expected` for `host`; how long it took.
pub async fn dig_until(
    flotilla: &Flotilla,
    host: &str,
    expected: &[&str],
    within: Duration,
) -> Duration {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < within {
        last = flotilla.dig(host).await;
        if last == expected {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("dig {host}: wanted {expected:?} within {within:?}, last answer {last:?}");
}

/// Waits until the cluster's status is `status`.
pub async fn status_until(
    flotilla: &Flotilla,
    cluster: &str,
    status: &str,
    within: Duration,
) -> Value {
    eventually(within, &format!("{cluster} is {status}"), || async {
        flotilla
            .cluster(cluster)
            .await
            .filter(|c| c["status"] == status)
    })
    .await
}

/// Waits until an Event about the object says something containing `needle`; all its Events.
pub async fn event_until(
    emulator: &peers::Emulator,
    namespace: &str,
    kind: &str,
    name: &str,
    needle: &str,
) -> Vec<String> {
    eventually(
        Duration::from_secs(15),
        &format!("an Event on {kind} {namespace}/{name} saying {needle:?}"),
        || async {
            let events = emulator.events(namespace, kind, name).await;
            events.iter().any(|e| e.contains(needle)).then_some(events)
        },
    )
    .await
}
