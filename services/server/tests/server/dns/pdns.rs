//! Against a real PowerDNS: the plan for PowerDNS is one record set per host with every
//! serving address, and `dig` sees each change.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::support::dns_peers::{create_zone, settings, Fault, FaultProxy, Pdns};

use crate::support::dns_peers::ZONE;

#[tokio::test]
async fn a_missing_zone_is_created() {
    let pdns = Pdns::start().await;
    let args = [
        "--dns-provider",
        "pdns",
        "--pdns-api-url",
        &pdns.api_url,
        "--pdns-api-key",
        &pdns.key,
    ];
    let fleet = Fleet::start_with(&args).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    dig_until(&pdns, &www, "A", &["192.0.2.1"], Duration::from_secs(10)).await;
    let (status, zone) = pdns.api(Method::GET, &format!("zones/{ZONE}"), None).await;
    assert_eq!(status, 200, "{zone}");
}

/// A PowerDNS whose zone already holds records Flotilla did not write, behind a fault proxy,
/// and a Flotilla using it (with `extra` arguments).
async fn start(extra: &[&str]) -> (Pdns, FaultProxy, Fleet) {
    let (pdns, proxy) = foreign_zone().await;
    let mut args = settings(&pdns, &proxy.url).to_vec();
    args.extend_from_slice(extra);
    let fleet = Fleet::start_with(&args).await;
    (pdns, proxy, fleet)
}

/// A PowerDNS whose zone already holds records Flotilla did not write (`legacy` and `taken`),
/// behind a fault proxy.
pub(super) async fn foreign_zone() -> (Pdns, FaultProxy) {
    let pdns = Pdns::start().await;
    create_zone(&pdns).await;
    let foreign = json!({ "rrsets": [
        { "name": format!("legacy.{DOMAIN}."), "type": "A", "ttl": 300, "changetype": "REPLACE",
          "records": [{ "content": "192.0.2.250", "disabled": false }] },
        { "name": format!("taken.{DOMAIN}."), "type": "A", "ttl": 300, "changetype": "REPLACE",
          "records": [{ "content": "192.0.2.251", "disabled": false }] },
    ]});
    let (status, body) = pdns
        .api(Method::PATCH, &format!("zones/{ZONE}"), Some(foreign))
        .await;
    assert_eq!(status, 204, "{body}");
    let proxy = FaultProxy::start(&pdns.api_url);
    (pdns, proxy)
}

/// Waits until `dig` answers `expected` for `name` and `rtype`; how long it took.
pub(super) async fn dig_until(
    pdns: &Pdns,
    name: &str,
    rtype: &str,
    expected: &[&str],
    within: Duration,
) -> Duration {
    let start = Instant::now();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    eventually(
        within,
        &format!("dig {name} {rtype} answering {expected:?}"),
        || async { (pdns.dig(name, rtype).await == expected).then_some(()) },
    )
    .await;
    start.elapsed()
}

#[tokio::test]
async fn endpoints_reach_powerdns_and_fail_over_and_foreign_records_are_never_touched() {
    let (pdns, _proxy, fleet) = start(&[]).await;
    let (use1, euw1, _beats) = beating_clusters(&fleet).await;
    let (www, taken) = (host("www"), host("taken"));
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2", "2001:db8::2"]).await;
    serve(&fleet, "use1", &use1, &taken, &["192.0.2.3"]).await;

    dig_until(
        &pdns,
        &www,
        "A",
        &["192.0.2.1", "192.0.2.2"],
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(pdns.dig(&www, "AAAA").await, ["2001:db8::2"]);
    assert_eq!(
        pdns.dig(&format!("_flotilla.{www}"), "TXT").await,
        ["\"heritage=flotilla,account=acme\""]
    );
    eventually(Duration::from_secs(5), "www applied", || async {
        host_applied(&fleet, &www).await.then_some(())
    })
    .await;

    // A name someone else holds is quarantined with the reason, and left as it was.
    let quarantined = eventually(Duration::from_secs(5), "taken quarantined", || async {
        let c = changes(&fleet, &format!("?host={taken}")).await;
        c.into_iter().find(|c| c["status"] == "quarantined")
    })
    .await;
    let error = quarantined["error"].as_str().expect("the test setup");
    assert!(
        error.contains(&format!("taken.{DOMAIN}. A")) && error.contains("already exists"),
        "{error}"
    );
    let taken_sets: Vec<Value> = records(&fleet)
        .await
        .into_iter()
        .filter(|r| r["host"] == taken)
        .collect();
    assert!(
        taken_sets
            .iter()
            .all(|r| r["status"] == "quarantined" && r["error"] == error),
        "{taken_sets:#?}"
    );
    assert_eq!(pdns.dig(&taken, "A").await, ["192.0.2.251"]);

    // One endpoint unhealthy: it leaves; the change is a failover and says when it was learned.
    unhealthy(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    let took = dig_until(&pdns, &www, "A", &["192.0.2.2"], Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "failover took {took:?}");
    // PowerDNS answers as soon as the change is in; Flotilla records it as applied a
    // moment later.
    let failover = eventually(Duration::from_secs(5), "the failover applied", || async {
        let newest = changes(&fleet, &format!("?host={www}")).await.remove(0);
        (newest["status"] == "applied").then_some(newest)
    })
    .await;
    assert_eq!(failover["failover"], true, "{failover:#}");
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(failover[field].as_str().expect(field)).expect(field)
    };
    assert!(at("completed_at") >= at("learned_at"), "{failover:#}");

    // What an operator watches: the changes by outcome, the failover timed, the backlog gone
    // and the quarantined host counted.
    let metrics = fleet.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            "flotilla_dns_changes_total{status=\"quarantined\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        metric(&metrics, "flotilla_dns_changes_total{status=\"applied\"}") >= Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "flotilla_dns_change_seconds_count{failover=\"true\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    eventually(Duration::from_secs(5), "the backlog gauges", || async {
        let metrics = fleet.metrics().await;
        (metric(&metrics, "flotilla_dns_pending_changes") == Some(0.0)
            && metric(&metrics, "flotilla_dns_quarantined_hosts") == Some(1.0))
        .then_some(())
    })
    .await;

    // Nothing healthy: the host fails open to every endpoint rather than vanish.
    unhealthy(&fleet, "euw1", &euw1, &www, &["192.0.2.2", "2001:db8::2"]).await;
    dig_until(
        &pdns,
        &www,
        "A",
        &["192.0.2.1", "192.0.2.2"],
        Duration::from_secs(10),
    )
    .await;

    // Withdrawn, then deregistered: the host's records go, and only Flotilla's.
    let url = fleet.acme(&format!("/clusters/use1/endpoints/{www}"));
    assert_eq!(
        fleet
            .call(Method::DELETE, &url, &fleet.assertion("use1", &use1), None)
            .await
            .status(),
        204
    );
    dig_until(&pdns, &www, "A", &["192.0.2.2"], Duration::from_secs(10)).await;
    assert_eq!(fleet.deregister("euw1", &fleet.admin).await.status(), 204);
    dig_until(&pdns, &www, "A", &[], Duration::from_secs(10)).await;
    assert_eq!(
        pdns.dig(&format!("_flotilla.{www}"), "TXT").await,
        Vec::<String>::new()
    );
    assert_eq!(pdns.dig(&host("legacy"), "A").await, ["192.0.2.250"]);
    assert_eq!(pdns.dig(&taken, "A").await, ["192.0.2.251"]);
}

#[tokio::test]
async fn a_cluster_that_stops_heartbeating_leaves_dns_and_comes_back() {
    let (pdns, _proxy, fleet) =
        start(&["--cluster-stale-after", "1", "--cluster-offline-after", "2"]).await;
    let (use1, euw1, beats) = beating_clusters(&fleet).await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2"]).await;
    dig_until(
        &pdns,
        &www,
        "A",
        &["192.0.2.1", "192.0.2.2"],
        Duration::from_secs(10),
    )
    .await;
    // euw1 keeps beating; use1 falls silent and goes offline, then beats again.
    beats.set("use1", false);
    dig_until(&pdns, &www, "A", &["192.0.2.2"], Duration::from_secs(12)).await;
    let r = fleet
        .heartbeat("acme", "use1", &fleet.assertion("use1", &use1))
        .await;
    assert_eq!(r.status(), 200);
    beats.set("use1", true);
    dig_until(
        &pdns,
        &www,
        "A",
        &["192.0.2.1", "192.0.2.2"],
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test]
async fn outages_lost_answers_and_a_refused_change_converge_with_nothing_lost() {
    let (pdns, proxy, fleet) = start(&[]).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let (a, b) = (host("a"), host("b"));

    // Down: the reports wait, visibly pending, then go through when it is back.
    proxy.set("zones", vec![Fault::Down]);
    serve(&fleet, "use1", &use1, &a, &["192.0.2.1"]).await;
    let pending = eventually(
        Duration::from_secs(10),
        "a pending with an error",
        || async {
            let c = changes(&fleet, &format!("?host={a}")).await;
            c.into_iter()
                .find(|c| c["status"] == "pending" && c["error"].is_string())
        },
    )
    .await;
    assert!(
        pending["error"]
            .as_str()
            .expect("the test setup")
            .contains("503"),
        "{pending:#}"
    );
    assert!(!host_applied(&fleet, &a).await);
    // A foreign record appears behind Flotilla's back, at a name an agent then reports.
    let clash = host("clash");
    let foreign = json!({ "rrsets": [{ "name": format!("{clash}."), "type": "A", "ttl": 60,
        "changetype": "REPLACE", "records": [{ "content": "198.51.100.7", "disabled": false }] }]});
    assert_eq!(
        pdns.api(Method::PATCH, &format!("zones/{ZONE}"), Some(foreign))
            .await
            .0,
        204
    );
    serve(&fleet, "use1", &use1, &clash, &["192.0.2.9"]).await;
    serve(&fleet, "use1", &use1, &b, &["192.0.2.2"]).await;
    proxy.set("zones", vec![]);
    dig_until(&pdns, &a, "A", &["192.0.2.1"], Duration::from_secs(30)).await;
    dig_until(&pdns, &b, "A", &["192.0.2.2"], Duration::from_secs(10)).await;
    let refused = eventually(Duration::from_secs(10), "clash quarantined", || async {
        changes(&fleet, &format!("?host={clash}&status=quarantined"))
            .await
            .into_iter()
            .next()
    })
    .await;
    assert!(
        refused["error"]
            .as_str()
            .expect("the test setup")
            .contains("already exists"),
        "{refused:#}"
    );
    assert_eq!(
        pdns.dig(&clash, "A").await,
        ["198.51.100.7"],
        "the foreign record is untouched"
    );

    // The answer to an applied change is lost: the zone is re-read, nothing is lost or doubled.
    proxy.set("zones", vec![Fault::LoseAnswers(1)]);
    serve(&fleet, "use1", &use1, &a, &["192.0.2.1", "192.0.2.5"]).await;
    dig_until(
        &pdns,
        &a,
        "A",
        &["192.0.2.1", "192.0.2.5"],
        Duration::from_secs(10),
    )
    .await;
    eventually(Duration::from_secs(10), "a applied again", || async {
        host_applied(&fleet, &a).await.then_some(())
    })
    .await;
    let history = changes(&fleet, &format!("?host={a}")).await;
    assert!(
        history.iter().all(|c| c["status"] != "quarantined"),
        "{history:#?}"
    );
    assert!(
        history.iter().any(|c| c["error"]
            .as_str()
            .is_some_and(|e| e.contains("answer was lost"))),
        "{history:#?}"
    );
    assert_eq!(
        proxy.sent("192.0.2.5"),
        1,
        "the lost change was not sent again"
    );
}

#[tokio::test]
async fn a_slow_provider_delays_changes_but_loses_and_repeats_nothing() {
    let (pdns, proxy, fleet) = start(&[]).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let (www, api) = (host("www"), host("api"));
    proxy.set("zones", vec![Fault::Delay(Duration::from_millis(1500))]);
    let start = Instant::now();
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    // Learned while www's batch is in flight: sent right after it, not a polling interval later.
    eventually(Duration::from_secs(5), "www in flight", || async {
        let c = changes(&fleet, &format!("?host={www}")).await;
        c.into_iter()
            .find(|c| c["status"] == "pending" && c["submitted_at"].is_string())
    })
    .await;
    serve(&fleet, "use1", &use1, &api, &["192.0.2.9"]).await;
    dig_until(&pdns, &www, "A", &["192.0.2.1"], Duration::from_secs(20)).await;
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "the delay was in the way: {:?}",
        start.elapsed()
    );
    dig_until(&pdns, &api, "A", &["192.0.2.9"], Duration::from_secs(20)).await;
    let mut done = Vec::new();
    for h in [&www, &api] {
        eventually(Duration::from_secs(10), &format!("{h} applied"), || async {
            host_applied(&fleet, h).await.then_some(())
        })
        .await;
        let history = changes(&fleet, &format!("?host={h}")).await;
        assert_eq!(history.len(), 1, "{history:#?}");
        assert_eq!(history[0]["status"], "applied");
        assert_eq!(
            history[0]["attempts"], 1,
            "slow is not failed: {history:#?}"
        );
        done.push(history[0].clone());
    }
    let at = |change: &Value, field: &str| {
        chrono::DateTime::parse_from_rfc3339(change[field].as_str().expect(field)).expect(field)
    };
    let gap = at(&done[1], "submitted_at") - at(&done[0], "completed_at");
    assert!(
        gap < chrono::TimeDelta::milliseconds(500),
        "api sent {gap} after www's answer: {done:#?}"
    );
    assert_eq!(
        (proxy.sent("192.0.2.1"), proxy.sent("192.0.2.9")),
        (1, 1),
        "one PATCH each"
    );
}

#[tokio::test]
async fn a_provider_answering_after_the_timeout_is_re_read_not_asked_again() {
    let (pdns, proxy, fleet) = start(&["--dns-provider-timeout", "1"]).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    eventually(Duration::from_secs(10), "www applied", || async {
        host_applied(&fleet, &www).await.then_some(())
    })
    .await;

    // PowerDNS applies the next change at once but answers 30 s later; Flotilla gives up on
    // the answer after 1 s, re-reads the zone and finds its change there.
    proxy.set(
        "zones",
        vec![Fault::HoldAnswers(1, Duration::from_secs(30))],
    );
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1", "192.0.2.5"]).await;
    dig_until(
        &pdns,
        &www,
        "A",
        &["192.0.2.1", "192.0.2.5"],
        Duration::from_secs(5),
    )
    .await;
    let change = eventually(
        Duration::from_secs(8),
        "the change recorded long before its answer",
        || async {
            changes(&fleet, &format!("?host={www}"))
                .await
                .into_iter()
                .find(|c| c.to_string().contains("192.0.2.5") && c["status"] != "pending")
        },
    )
    .await;
    assert_eq!(change["status"], "applied", "{change:#}");
    assert!(
        change["error"]
            .as_str()
            .is_some_and(|e| e.contains("answer was lost")),
        "{change:#}"
    );
    assert_eq!(proxy.sent("192.0.2.5"), 1, "the change was not sent again");
    assert!(host_applied(&fleet, &www).await);
}
