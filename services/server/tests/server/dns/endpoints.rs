//! Endpoint reports and their refusals, and the plan with the `none` provider: records and
//! changes are visible through the API although nothing is sent anywhere.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::support::fleet::{refused, refused_at};

#[tokio::test]
async fn reports_are_checked_and_refused_with_the_reason() {
    let fleet = Fleet::start().await;
    let leaf = ready_cluster(&fleet, "use1", "us-east-1").await;
    let www = host("www");

    let r = report(
        &fleet,
        "use1",
        &leaf,
        &www,
        json!({ "targets": ["192.0.2.1"] }),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("JSON");
    assert_eq!(created["host"], www);
    assert_eq!(created["region"], "us-east-1");
    assert_eq!(created["weight"], 1);
    assert_eq!(created["healthy"], true);
    let again = report(
        &fleet,
        "use1",
        &leaf,
        &format!("WWW.{DOMAIN}."),
        json!({ "targets": ["192.0.2.1"], "weight": 7 }),
    )
    .await;
    assert_eq!(again.status(), 200, "the same host, however it is written");

    let cases = [
        (
            "www.other.flotilla.localhost",
            json!({ "targets": ["192.0.2.1"] }),
            "host",
            "acme.flotilla.localhost",
        ),
        (
            "www.flotilla.localhost",
            json!({ "targets": ["192.0.2.1"] }),
            "host",
            "acme.flotilla.localhost",
        ),
        (
            "_flotilla.www.acme.flotilla.localhost",
            json!({ "targets": ["192.0.2.1"] }),
            "host",
            "not a DNS label",
        ),
        (
            www.as_str(),
            json!({ "targets": ["192.0.2.1", "lb.example.com"] }),
            "/targets",
            "mixes",
        ),
        (
            www.as_str(),
            json!({ "targets": ["192.0.2.300"] }),
            "/targets",
            "neither an IP address",
        ),
        (
            www.as_str(),
            json!({ "targets": ["a.example.com", "b.example.com"] }),
            "/targets",
            "several hostnames",
        ),
        (
            www.as_str(),
            json!({ "targets": [] }),
            "/targets",
            "at least one",
        ),
        (
            www.as_str(),
            json!({ "targets": ["0.0.0.0"] }),
            "/targets",
            "unspecified",
        ),
        (
            www.as_str(),
            json!({ "targets": ["192.0.2.1"], "weight": 256 }),
            "/weight",
            "0 to 255",
        ),
    ];
    for (h, body, field, reason) in cases {
        let problem = refused_at(report(&fleet, "use1", &leaf, h, body.clone()).await, field).await;
        assert!(
            problem.to_string().contains(reason),
            "{h} {body}: {problem}"
        );
    }
    let unknown = report(
        &fleet,
        "use1",
        &leaf,
        &www,
        json!({ "targets": ["192.0.2.1"], "ttl": 5 }),
    )
    .await;
    assert_eq!(unknown.status(), 422, "unknown members are refused");

    // Only the cluster's own agent reports for it; members cannot.
    let other = ready_cluster(&fleet, "euw1", "eu-west-1").await;
    refused(
        report(
            &fleet,
            "use1",
            &other,
            &www,
            json!({ "targets": ["192.0.2.9"] }),
        )
        .await,
        401,
    )
    .await;
    let url = fleet.acme(&format!("/clusters/use1/endpoints/{www}"));
    let as_agent_of_euw1 = fleet.assertion("euw1", &other);
    refused(
        fleet
            .call(
                Method::PUT,
                &url,
                &as_agent_of_euw1,
                Some(json!({ "targets": ["192.0.2.9"] })),
            )
            .await,
        403,
    )
    .await;
    refused(
        fleet
            .call(
                Method::PUT,
                &url,
                &fleet.admin,
                Some(json!({ "targets": ["192.0.2.9"] })),
            )
            .await,
        401,
    )
    .await;

    let assertion = fleet.assertion("use1", &leaf);
    assert_eq!(
        fleet
            .call(Method::DELETE, &url, &assertion, None)
            .await
            .status(),
        204
    );
    refused(
        fleet.call(Method::DELETE, &url, &assertion, None).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn without_a_provider_the_plan_and_its_changes_are_visible_and_nothing_is_applied() {
    let fleet = Fleet::start().await;
    let (use1, euw1, _beats) = beating_clusters(&fleet).await;
    let www = host("www");
    serve(&fleet, "use1", &use1, &www, &["192.0.2.1"]).await;
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.2"]).await;
    let sets = eventually(Duration::from_secs(10), "the plan of www", || async {
        let sets = records(&fleet).await;
        (sets.len() == 5).then_some(sets)
    })
    .await;
    let latency = sets
        .iter()
        .find(|s| s["name"] == format!("{www}.") && s["set_identifier"] == "eu-west-1")
        .expect("a latency set for eu-west-1");
    assert_eq!(latency["type"], "CNAME");
    assert_eq!(latency["planned"]["region"], "eu-west-1");
    assert_eq!(
        latency["planned"]["values"],
        json!([format!("eu-west-1._flotilla.{www}.")])
    );
    assert_eq!(latency["planned"]["ttl"], 1);
    let weighted = sets
        .iter()
        .find(|s| s["set_identifier"] == "use1")
        .expect("a weighted set for use1");
    assert_eq!(weighted["name"], format!("us-east-1._flotilla.{www}."));
    assert_eq!(weighted["planned"]["weight"], 1);
    assert!(
        sets.iter()
            .all(|s| s["applied"] == false && s["status"] == "pending"),
        "{sets:#?}"
    );
    let queued = changes(&fleet, "").await;
    assert_eq!(
        queued.len(),
        1,
        "one queued change for the host: {queued:#?}"
    );
    assert_eq!(queued[0]["status"], "pending");
    assert_eq!(
        queued[0]["actions"]
            .as_array()
            .expect("the test setup")
            .len(),
        5
    );
    assert!(queued[0]["actions"]
        .as_array()
        .expect("the test setup")
        .iter()
        .all(|a| a["action"] == "CREATE"));

    // A new TTL for the account re-plans its hosts.
    let r = fleet
        .call(
            Method::PATCH,
            &fleet.acme(""),
            &fleet.admin,
            Some(json!({ "dns_ttl": 30 })),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("the test setup")["dns_ttl"],
        30
    );
    eventually(
        Duration::from_secs(10),
        "records with the new TTL",
        || async {
            let sets = records(&fleet).await;
            sets.iter()
                .filter(|s| s["type"] != "TXT")
                .all(|s| s["planned"]["ttl"] == 30)
                .then_some(())
        },
    )
    .await;
    let bad = fleet
        .call(
            Method::PATCH,
            &fleet.acme(""),
            &fleet.admin,
            Some(json!({ "dns_ttl": 0 })),
        )
        .await;
    refused_at(bad, "/dns_ttl").await;

    // Tenants see only their own.
    let theirs = fleet
        .get(
            &fleet.flotilla.at("/api/v1/accounts/other/dns/records"),
            &fleet.other_admin,
        )
        .await;
    assert_eq!(theirs["records"], json!([]));
    let r = fleet
        .call(
            Method::GET,
            &fleet.acme("/dns/changes"),
            &fleet.other_admin,
            None,
        )
        .await;
    refused(r, 404).await;
    let r = fleet
        .call(
            Method::GET,
            &fleet.acme("/dns/changes?status=done"),
            &fleet.admin,
            None,
        )
        .await;
    refused_at(r, "status").await;
}
