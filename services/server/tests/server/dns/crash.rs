//! The server process killed (SIGKILL) where it hurts: while a change waits for a provider that
//! is down, and between submitting a change and recording the provider's answer. After a
//! restart the reconciler converges: nothing lost, nothing sent twice, no foreign record
//! touched. The API is served in-process; the reconciler runs in the real binary, on the same
//! database, so that it can be killed.

use std::path::Path;

use nix::sys::signal::Signal;

use super::pdns::{dig_until, foreign_zone};
use super::*;
use crate::support::dns_peers::settings;
use crate::support::dns_peers::{Fault, Pdns};
use crate::support::server_binary::start_ready;
use flotilla_core::testing::ServerProcess;

/// The binary reconciling PowerDNS (through `proxy_url`) over `database_url`.
async fn reconciler(
    work: &Path,
    pdns: &Pdns,
    proxy_url: &str,
    database_url: &str,
) -> ServerProcess {
    let args = settings(pdns, proxy_url);
    start_ready(work, &args, &[("DATABASE_URL", database_url)]).await
}

async fn kill_9(server: &mut ServerProcess) {
    server.signal(Signal::SIGKILL);
    assert!(
        server.wait_exit(Duration::from_secs(5)).await.is_some(),
        "killed"
    );
}

/// Changes of `host` whose actions mention `needle`.
async fn changes_with(fleet: &Fleet, host: &str, needle: &str) -> Vec<Value> {
    changes(fleet, &format!("?host={host}"))
        .await
        .into_iter()
        .filter(|c| c["actions"].to_string().contains(needle))
        .collect()
}

#[tokio::test]
async fn a_kill_9_at_any_point_loses_and_repeats_nothing() {
    let (pdns, proxy) = foreign_zone().await;
    let fleet = Fleet::api_only(&settings(&pdns, &proxy.url)).await;
    let database_url = fleet.flotilla.database_url();
    let work = tempfile::tempdir().expect("tempdir");
    let mut server = reconciler(work.path(), &pdns, &proxy.url, &database_url).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let (a, b, c) = (host("a"), host("b"), host("c"));
    serve(&fleet, "use1", &use1, &a, &["192.0.2.1"]).await;
    dig_until(&pdns, &a, "A", &["192.0.2.1"], Duration::from_secs(10)).await;

    // 1. Killed while a change waits for a provider that is down; another change is learned
    //    while no reconciler runs at all.
    proxy.set("zones", vec![Fault::Down]);
    serve(&fleet, "use1", &use1, &b, &["192.0.2.2"]).await;
    eventually(
        Duration::from_secs(10),
        "b pending with an error",
        || async {
            changes(&fleet, &format!("?host={b}"))
                .await
                .into_iter()
                .find(|c| c["status"] == "pending" && c["error"].is_string())
        },
    )
    .await;
    kill_9(&mut server).await;
    serve(&fleet, "use1", &use1, &c, &["192.0.2.3"]).await;
    proxy.set("zones", vec![]);
    let mut server = reconciler(work.path(), &pdns, &proxy.url, &database_url).await;
    dig_until(&pdns, &b, "A", &["192.0.2.2"], Duration::from_secs(10)).await;
    dig_until(&pdns, &c, "A", &["192.0.2.3"], Duration::from_secs(10)).await;

    // 2. Killed after PowerDNS applied a change, before its answer reached the reconciler.
    proxy.set(
        "zones",
        vec![Fault::HoldAnswers(1, Duration::from_secs(60))],
    );
    serve(&fleet, "use1", &use1, &a, &["192.0.2.1", "192.0.2.5"]).await;
    eventually(Duration::from_secs(10), "the change sent", || async {
        (proxy.sent("192.0.2.5") > 0).then_some(())
    })
    .await;
    let in_flight = changes_with(&fleet, &a, "192.0.2.5").await;
    assert!(
        in_flight.len() == 1
            && in_flight[0]["status"] == "pending"
            && in_flight[0]["submitted_at"].is_string(),
        "submitted, answer not yet recorded: {in_flight:#?}"
    );
    kill_9(&mut server).await;
    let mut server = reconciler(work.path(), &pdns, &proxy.url, &database_url).await;
    let settled = eventually(
        Duration::from_secs(10),
        "the interrupted change settled",
        || async {
            let c = changes_with(&fleet, &a, "192.0.2.5").await.remove(0);
            (c["status"] != "pending").then_some(c)
        },
    )
    .await;
    assert_eq!(settled["status"], "applied", "{settled:#}");
    assert!(
        settled["error"]
            .as_str()
            .is_some_and(|e| e.contains("answer was lost")),
        "{settled:#}"
    );

    // Converged: every host applied, nothing quarantined, nothing sent twice, the foreign
    // records as they were.
    for h in [&a, &b, &c] {
        eventually(Duration::from_secs(10), &format!("{h} applied"), || async {
            host_applied(&fleet, h).await.then_some(())
        })
        .await;
        let history = changes(&fleet, &format!("?host={h}")).await;
        assert!(
            history.iter().all(|c| c["status"] != "quarantined"),
            "{history:#?}"
        );
    }
    assert_eq!(pdns.dig(&a, "A").await, ["192.0.2.1", "192.0.2.5"]);
    assert_eq!(
        proxy.sent("192.0.2.5"),
        1,
        "the interrupted change was not sent again"
    );
    assert_eq!(
        proxy.sent("192.0.2.2"),
        1,
        "b was sent once, after the restart"
    );
    assert_eq!(pdns.dig(&host("legacy"), "A").await, ["192.0.2.250"]);
    assert_eq!(pdns.dig(&host("taken"), "A").await, ["192.0.2.251"]);
    server.signal(Signal::SIGTERM);
    assert!(server
        .wait_exit(Duration::from_secs(5))
        .await
        .is_some_and(|s| s.success()));
}
