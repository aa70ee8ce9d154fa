//! Fast failover as `dig` sees it (PowerDNS): a cluster's endpoints leave DNS as soon as the
//! cluster is stale, not only once it is offline, while the other clusters' stay; they come
//! back only once its heartbeats have kept coming for the recovery time, so a cluster whose
//! heartbeats come and go leaves DNS once instead of flapping.

use super::pdns::dig_until;
use super::*;
use crate::support::dns_peers::Pdns;
use crate::support::dns_peers::{create_zone, settings};
use crate::support::fleet::status_events;

#[tokio::test]
async fn a_stale_cluster_leaves_dns_at_once_and_returns_once_its_heartbeats_are_steady() {
    let pdns = Pdns::start().await;
    create_zone(&pdns).await;
    let mut args = settings(&pdns, &pdns.api_url).to_vec();
    // Offline only after the default 300 s: all that happens here happens while stale.
    args.extend(["--cluster-stale-after", "2", "--cluster-recover-after", "2"]);
    let fleet = Fleet::start_with(&args).await;
    let (use1, euw1, beats) = beating_clusters(&fleet).await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2"]).await;
    let both = ["192.0.2.1", "192.0.2.2"];
    dig_until(&pdns, &www, "A", &both, Duration::from_secs(10)).await;

    // use1 falls silent: stale after 2 s, and out of DNS within seconds; euw1 stays.
    beats.set("use1", false);
    let took = dig_until(&pdns, &www, "A", &["192.0.2.2"], Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(6), "failover took {took:?}");
    assert_eq!(fleet.cluster("use1").await["status"], "stale");
    let left = eventually(Duration::from_secs(5), "the failover applied", || async {
        let newest = changes(&fleet, &format!("?host={www}")).await.remove(0);
        (newest["status"] == "applied").then_some(newest)
    })
    .await;
    assert_eq!(left["failover"], true, "{left:#}");

    // Its first heartbeat back answers stale, and DNS stays without it.
    let back = Instant::now();
    let r = fleet
        .heartbeat("acme", "use1", &fleet.assertion("use1", &use1))
        .await;
    assert_eq!(r.status(), 200);
    let ack: Value = r.json().await.expect("JSON");
    assert_eq!(ack["status"], "stale", "{ack}");
    assert_eq!(ack["previous_status"], "stale", "{ack}");
    beats.set("use1", true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pdns.dig(&www, "A").await, ["192.0.2.2"]);

    // Heartbeats kept up for 2 s: ready, and back in DNS; not before.
    dig_until(&pdns, &www, "A", &both, Duration::from_secs(10)).await;
    let returned = back.elapsed();
    assert!(
        returned >= Duration::from_secs(2),
        "back in DNS {returned:?} after its first heartbeat, before the recovery time"
    );
    assert_eq!(fleet.cluster("use1").await["status"], "ready");
    assert_eq!(
        status_events(&fleet, "use1").await,
        ["stale → ready", "ready → stale", "offline → ready"]
    );
    assert_eq!(status_events(&fleet, "euw1").await, ["offline → ready"]);
}
