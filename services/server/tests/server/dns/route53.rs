//! Against moto's Route53 (through a fault proxy): latency records per region leading to
//! weighted records per cluster, as `ListResourceRecordSets` shows them; throttling retried;
//! a refused change isolated by splitting the batch; foreign records untouched.

use aws_sdk_route53 as r53;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use r53::config::{BehaviorVersion, Credentials, Region};
use r53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

use super::*;
use crate::support::dns_peers::{Fault, Moto};

/// A client of moto itself (not through the proxy), for setting up and reading the zone.
fn client(moto: &Moto) -> r53::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let conf = r53::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(&moto.url)
        .http_client(http)
        .build();
    r53::Client::from_conf(conf)
}

/// A new hosted zone for the base domain holding a foreign record; its id.
async fn zone(r53: &r53::Client) -> String {
    let caller = format!("flotilla-test-{}", uuid::Uuid::new_v4());
    let zone = r53
        .create_hosted_zone()
        .name("flotilla.localhost")
        .caller_reference(caller)
        .send()
        .await
        .expect("the test setup");
    let id = zone
        .hosted_zone()
        .expect("the test setup")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let legacy = ResourceRecordSet::builder()
        .name(format!("legacy.{DOMAIN}."))
        .r#type(RrType::A)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.250")
                .build()
                .expect("the test setup"),
        )
        .build()
        .expect("the test setup");
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(legacy)
        .build()
        .expect("the test setup");
    r53.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change)
                .build()
                .expect("the test setup"),
        )
        .send()
        .await
        .expect("the test setup");
    id
}

/// The zone's record sets as `name type set-id ttl region|weight values` lines.
async fn listing(r53: &r53::Client, zone: &str) -> Vec<String> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .max_items(1000)
        .send()
        .await
        .expect("the test setup");
    let mut lines: Vec<String> = out
        .resource_record_sets()
        .iter()
        .filter(|s| !matches!(s.r#type(), RrType::Ns | RrType::Soa))
        .map(|s| {
            let routing = match (s.region(), s.weight()) {
                (Some(r), _) => format!(" region={}", r.as_str()),
                (None, Some(w)) => format!(" weight={w}"),
                _ => String::new(),
            };
            let values: Vec<&str> = s.resource_records().iter().map(|r| r.value()).collect();
            format!(
                "{} {} {} {}{} {}",
                s.name(),
                s.r#type().as_str(),
                s.set_identifier().unwrap_or("-"),
                s.ttl().unwrap_or(0),
                routing,
                values.join(",")
            )
        })
        .collect();
    lines.sort();
    lines
}

/// moto, a client of it, a new zone (holding the foreign `legacy` record) and a Flotilla
/// using that zone (with `extra` arguments).
async fn start(extra: &[&str]) -> (&'static Moto, r53::Client, String, Fleet) {
    let moto = Moto::shared().await;
    let r53 = client(moto);
    let zone = zone(&r53).await;
    let mut args = vec![
        "--dns-provider",
        "route53",
        "--route53-hosted-zone-id",
        &zone,
    ];
    args.extend_from_slice(extra);
    let fleet = Fleet::start_with(&args).await;
    (moto, r53, zone, fleet)
}

#[tokio::test]
async fn route53_gets_latency_and_weighted_records_and_survives_throttling_and_a_refused_change() {
    let (moto, r53, zone, fleet) = start(&[]).await;
    let (use1, euw1, _beats) = beating_clusters(&fleet).await;
    let (www, api) = (host("www"), host("api"));
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2"]).await;
    serve(
        &fleet,
        "euw1",
        &euw1,
        &api,
        &["lb-1.eu-west-1.elb.amazonaws.com"],
    )
    .await;
    for h in [&www, &api] {
        eventually(Duration::from_secs(15), &format!("{h} applied"), || async {
            host_applied(&fleet, h).await.then_some(())
        })
        .await;
    }
    let expected = [
        format!("_flotilla.{api}. TXT - 300 \"heritage=flotilla,account=acme\""),
        format!("_flotilla.{www}. TXT - 300 \"heritage=flotilla,account=acme\""),
        format!("api.{DOMAIN}. CNAME eu-west-1 1 region=eu-west-1 eu-west-1._flotilla.{api}."),
        format!(
            "eu-west-1._flotilla.{api}. CNAME euw1 1 weight=1 lb-1.eu-west-1.elb.amazonaws.com."
        ),
        format!("eu-west-1._flotilla.{www}. A euw1 1 weight=1 192.0.2.2"),
        format!("legacy.{DOMAIN}. A - 300 192.0.2.250"),
        format!("us-east-1._flotilla.{www}. A use1 1 weight=1 192.0.2.1"),
        format!("www.{DOMAIN}. CNAME eu-west-1 1 region=eu-west-1 eu-west-1._flotilla.{www}."),
        format!("www.{DOMAIN}. CNAME us-east-1 1 region=us-east-1 us-east-1._flotilla.{www}."),
    ];
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(listing(&r53, &zone).await, expected);
    let applied = changes(&fleet, "?status=applied").await;
    assert!(
        applied.iter().all(|c| c["provider_change_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("/change/"))),
        "{applied:#?}"
    );

    // Throttled twice: retried with backoff until applied.
    moto.proxy.set(&zone, vec![Fault::Throttle(2)]);
    unhealthy(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    eventually(Duration::from_secs(15), "www without us-east-1", || async {
        let now = listing(&r53, &zone).await;
        now.iter().all(|l| !l.contains("us-east-1")).then_some(())
    })
    .await;
    // Route53 answers the listing as soon as the change is in; Flotilla records it
    // as applied a moment later.
    let failover = eventually(Duration::from_secs(10), "the failover applied", || async {
        let newest = changes(&fleet, &format!("?host={www}")).await.remove(0);
        (newest["status"] == "applied").then_some(newest)
    })
    .await;
    assert_eq!(failover["failover"], true, "{failover:#}");
    assert_eq!(failover["attempts"], 3, "{failover:#}");
    let metrics = fleet.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            "flotilla_dns_provider_requests_total{outcome=\"throttled\"}"
        ),
        Some(2.0),
        "{metrics}"
    );
    assert!(
        failover["actions"]
            .as_array()
            .expect("the test setup")
            .iter()
            .all(|a| a["action"] == "DELETE"),
        "{failover:#}"
    );

    // One change refused in a batch: split until it is alone, quarantined; the rest applied.
    moto.proxy.set(&zone, vec![Fault::Down]);
    let names = ["one", "bad", "two", "three"];
    for name in names {
        serve(&fleet, "use1", &use1, &host(name), &["192.0.2.7"]).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    moto.proxy
        .set(&zone, vec![Fault::Refuse(format!("bad.{DOMAIN}"))]);
    for name in ["one", "two", "three"] {
        let h = host(name);
        eventually(Duration::from_secs(30), &format!("{h} applied"), || async {
            host_applied(&fleet, &h).await.then_some(())
        })
        .await;
    }
    let bad = eventually(Duration::from_secs(10), "bad quarantined", || async {
        changes(&fleet, &format!("?host={}&status=quarantined", host("bad")))
            .await
            .into_iter()
            .next()
    })
    .await;
    // The good hosts went through the refused batch and at least one split of it.
    let split = changes(&fleet, &format!("?host={}&status=applied", host("one"))).await;
    assert!(split[0]["attempts"].as_i64() >= Some(2), "{split:#?}");
    assert!(
        bad["error"]
            .as_str()
            .expect("the test setup")
            .contains("InvalidChangeBatch"),
        "{bad:#}"
    );
    let now = listing(&r53, &zone).await;
    assert!(now.iter().all(|l| !l.contains("bad.")), "{now:#?}");
    assert!(
        now.contains(&format!("legacy.{DOMAIN}. A - 300 192.0.2.250")),
        "foreign record untouched: {now:#?}"
    );
    moto.proxy.set(&zone, vec![]);
}

#[tokio::test]
async fn route53_records_follow_clusters_going_offline_and_deregistered() {
    let (_, r53, zone, fleet) =
        start(&["--cluster-stale-after", "1", "--cluster-offline-after", "2"]).await;
    let (use1, euw1, beats) = beating_clusters(&fleet).await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2"]).await;
    let marker = format!("_flotilla.{www}. TXT - 300 \"heritage=flotilla,account=acme\"");
    let legacy = format!("legacy.{DOMAIN}. A - 300 192.0.2.250");
    let region = |r: &str, cluster: &str, address: &str| {
        [
            format!("{r}._flotilla.{www}. A {cluster} 1 weight=1 {address}"),
            format!("www.{DOMAIN}. CNAME {r} 1 region={r} {r}._flotilla.{www}."),
        ]
    };
    let sorted = |mut lines: Vec<String>| {
        lines.sort();
        lines
    };
    let both = sorted(
        [marker.clone(), legacy.clone()]
            .into_iter()
            .chain(region("us-east-1", "use1", "192.0.2.1"))
            .chain(region("eu-west-1", "euw1", "192.0.2.2"))
            .collect(),
    );
    let listed = |expected: Vec<String>, what: &'static str| {
        let (r53, zone) = (&r53, &zone);
        async move {
            eventually(Duration::from_secs(15), what, || {
                let expected = expected.clone();
                async move { (listing(r53, zone).await == expected).then_some(()) }
            })
            .await
        }
    };
    listed(both.clone(), "both regions listed").await;

    // euw1 falls silent and goes offline: eu-west-1 leaves the zone; it comes back with its
    // heartbeats.
    beats.set("euw1", false);
    let without_euw1 = sorted(
        [marker.clone(), legacy.clone()]
            .into_iter()
            .chain(region("us-east-1", "use1", "192.0.2.1"))
            .collect(),
    );
    listed(without_euw1, "euw1 gone once offline").await;
    beats.set("euw1", true);
    listed(both, "euw1 back with its heartbeats").await;

    // Deregistered one by one: their records go, then the host's marker; the foreign record
    // stays.
    assert_eq!(fleet.deregister("use1", &fleet.admin).await.status(), 204);
    let only_euw1 = sorted(
        [marker, legacy.clone()]
            .into_iter()
            .chain(region("eu-west-1", "euw1", "192.0.2.2"))
            .collect(),
    );
    listed(only_euw1, "use1 gone").await;
    assert_eq!(fleet.deregister("euw1", &fleet.admin).await.status(), 204);
    listed(vec![legacy], "only the foreign record left").await;
}
