//! A cluster's whole set of endpoints (`GET|PUT .../clusters/{cluster}/endpoints`): read by
//! its agent or a member, replaced by its agent in one request that withdraws what the set
//! lacks and writes only what differs; a refused set writes nothing. Checked through the API,
//! the DNS outbox and, with PowerDNS, `dig`.

use reqwest::Method;
use serde_json::json;

use super::pdns::dig_until;
use super::*;
use crate::support::dns_peers::Pdns;
use crate::support::dns_peers::{create_zone, settings};
use crate::support::fleet::{refused, refused_at};

/// The URL of `cluster`'s endpoint set.
fn set_url(fleet: &Fleet, cluster: &str) -> String {
    fleet.acme(&format!("/clusters/{cluster}/endpoints"))
}

/// `PUT` of `cluster`'s whole set with `body`, as the agent signing with `leaf`.
async fn put_set(fleet: &Fleet, cluster: &str, leaf: &Leaf, body: Value) -> Response {
    fleet
        .call(
            Method::PUT,
            &set_url(fleet, cluster),
            &fleet.assertion(cluster, leaf),
            Some(body),
        )
        .await
}

/// `PUT` of `cluster`'s set, expected accepted; the answer.
async fn replace(fleet: &Fleet, cluster: &str, leaf: &Leaf, body: Value) -> Value {
    let r = put_set(fleet, cluster, leaf, body.clone()).await;
    assert_eq!(r.status(), 200, "replace {cluster}'s set with {body}");
    r.json().await.expect("JSON")
}

/// `GET` of `cluster`'s set with bearer `token`, expected answered; the answer.
async fn read_set(fleet: &Fleet, cluster: &str, token: &str) -> Value {
    let r = fleet
        .call(Method::GET, &set_url(fleet, cluster), token, None)
        .await;
    assert_eq!(r.status(), 200, "read {cluster}'s set");
    r.json().await.expect("JSON")
}

/// `(host, targets, weight, healthy)` of each endpoint of a set answer, in its order.
fn summary(answer: &Value) -> Vec<(String, Value, i64, bool)> {
    answer["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("endpoints: {answer}"))
        .iter()
        .map(|e| {
            (
                e["host"].as_str().expect("host").to_owned(),
                e["targets"].clone(),
                e["weight"].as_i64().expect("weight"),
                e["healthy"].as_bool().expect("healthy"),
            )
        })
        .collect()
}

/// `updated_at` of `host` in a set answer.
fn updated_at(answer: &Value, host: &str) -> String {
    answer["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .find(|e| e["host"] == host)
        .and_then(|e| e["updated_at"].as_str())
        .unwrap_or_else(|| panic!("no {host} in {answer}"))
        .to_owned()
}

/// The `changes` counts of a replacement's answer: created, updated, unchanged, withdrawn.
fn counts(answer: &Value) -> [i64; 4] {
    ["created", "updated", "unchanged", "withdrawn"].map(|k| {
        answer["changes"][k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k}: {answer}"))
    })
}

/// Hosts waiting in the DNS outbox.
async fn outbox(fleet: &Fleet) -> Vec<String> {
    sqlx::query_scalar!("SELECT host FROM dns_dirty_hosts ORDER BY host")
        .fetch_all(&fleet.flotilla.ctx.db)
        .await
        .expect("the outbox")
}

#[tokio::test]
async fn a_set_replaces_the_clusters_endpoints_in_one_request_and_dig_follows() {
    let pdns = Pdns::start().await;
    create_zone(&pdns).await;
    let fleet = Fleet::start_with(&settings(&pdns, &pdns.api_url)).await;
    let (use1, euw1, _beats) = beating_clusters(&fleet).await;
    let (www, api, old, new) = (host("www"), host("api"), host("old"), host("new"));
    // Another cluster serves www too: use1's set never touches it.
    serve(&fleet, "euw1", &euw1, &www, &["192.0.2.9"]).await;

    let first = replace(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [
            { "host": www, "targets": ["192.0.2.1"] },
            { "host": api, "targets": ["192.0.2.2"], "weight": 3 },
            { "host": old, "targets": ["192.0.2.3"], "healthy": true },
        ]}),
    )
    .await;
    assert_eq!(first["cluster"], "use1");
    assert_eq!(first["zone"], DOMAIN);
    assert_eq!(counts(&first), [3, 0, 0, 0], "{first:#}");
    assert_eq!(
        summary(&first),
        [
            (api.clone(), json!(["192.0.2.2"]), 3, true),
            (old.clone(), json!(["192.0.2.3"]), 1, true),
            (www.clone(), json!(["192.0.2.1"]), 1, true),
        ]
    );
    assert!(
        first["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .all(|e| e["cluster"] == "use1" && e["region"] == "us-east-1"),
        "{first:#}"
    );
    let within = Duration::from_secs(10);
    dig_until(&pdns, &www, "A", &["192.0.2.1", "192.0.2.9"], within).await;
    dig_until(&pdns, &api, "A", &["192.0.2.2"], within).await;
    dig_until(&pdns, &old, "A", &["192.0.2.3"], within).await;

    // The agent and a member (a viewer) read the same set, with the zone hosts must lie in.
    let viewer = fleet
        .flotilla
        .developer()
        .await
        .create_token(&fleet.flotilla.url, "acme", "viewer", 1)
        .await["token"]
        .as_str()
        .expect("a viewer token")
        .to_owned();
    let by_agent = read_set(&fleet, "use1", &fleet.assertion("use1", &use1)).await;
    let by_viewer = read_set(&fleet, "use1", &viewer).await;
    assert_eq!(by_agent, by_viewer);
    assert_eq!(by_agent["zone"], "acme.flotilla.localhost");
    assert_eq!(by_agent["endpoints"], first["endpoints"]);
    assert!(by_agent.get("changes").is_none(), "{by_agent:#}");
    // Another cluster's agent may not read it; another account finds no such thing.
    let r = fleet
        .call(
            Method::GET,
            &set_url(&fleet, "use1"),
            &fleet.assertion("euw1", &euw1),
            None,
        )
        .await;
    refused(r, 403).await;
    let r = fleet
        .call(
            Method::GET,
            &set_url(&fleet, "use1"),
            &fleet.other_admin,
            None,
        )
        .await;
    refused(r, 404).await;

    // One request: www unchanged (however its name is written), api changed, new created, old
    // withdrawn.
    let second = replace(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [
            { "host": format!("WWW.{DOMAIN}."), "targets": ["192.0.2.1"] },
            { "host": api, "targets": ["192.0.2.4"], "weight": 3 },
            { "host": new, "targets": ["192.0.2.5"], "weight": 2 },
        ]}),
    )
    .await;
    assert_eq!(counts(&second), [1, 1, 1, 1], "{second:#}");
    assert_eq!(
        summary(&second),
        [
            (api.clone(), json!(["192.0.2.4"]), 3, true),
            (new.clone(), json!(["192.0.2.5"]), 2, true),
            (www.clone(), json!(["192.0.2.1"]), 1, true),
        ]
    );
    assert_eq!(
        updated_at(&second, &www),
        updated_at(&first, &www),
        "an unchanged endpoint is not written"
    );
    assert_ne!(updated_at(&second, &api), updated_at(&first, &api));
    dig_until(&pdns, &api, "A", &["192.0.2.4"], within).await;
    dig_until(&pdns, &new, "A", &["192.0.2.5"], within).await;
    dig_until(&pdns, &old, "A", &[], within).await;
    assert_eq!(
        pdns.dig(&www, "A").await,
        ["192.0.2.1", "192.0.2.9"],
        "www as it was"
    );

    // The same set again writes nothing: no timestamp moves, no change reaches DNS.
    for h in [&www, &api, &new] {
        eventually(within, &format!("{h} applied"), || async {
            host_applied(&fleet, h).await.then_some(())
        })
        .await;
    }
    eventually(within, "no change pending", || async {
        changes(&fleet, "?status=pending")
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    let history = changes(&fleet, "?limit=200").await;
    let third = replace(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [
            { "host": www, "targets": ["192.0.2.1"], "weight": 1, "healthy": true },
            { "host": api, "targets": ["192.0.2.4"], "weight": 3 },
            { "host": new, "targets": ["192.0.2.5"], "weight": 2 },
        ]}),
    )
    .await;
    assert_eq!(counts(&third), [0, 0, 3, 0], "{third:#}");
    assert_eq!(third["endpoints"], second["endpoints"], "nothing written");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        changes(&fleet, "?limit=200").await,
        history,
        "no DNS change for an unchanged set"
    );

    // An empty set withdraws everything: use1's hosts stop answering, euw1's stays.
    let emptied = replace(&fleet, "use1", &use1, json!({ "endpoints": [] })).await;
    assert_eq!(counts(&emptied), [0, 0, 0, 3], "{emptied:#}");
    assert_eq!(emptied["endpoints"], json!([]));
    dig_until(&pdns, &api, "A", &[], within).await;
    dig_until(&pdns, &new, "A", &[], within).await;
    dig_until(&pdns, &www, "A", &["192.0.2.9"], within).await;
    assert_eq!(
        read_set(&fleet, "use1", &viewer).await["endpoints"],
        json!([])
    );
}

#[tokio::test]
async fn a_refused_set_names_every_bad_entry_and_writes_nothing() {
    // The API alone: nothing plans the outbox away, so what a request put there stays seen.
    let fleet = Fleet::api_only(&[]).await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let euw1 = ready_cluster(&fleet, "euw1", "eu-west-1").await;
    let www = host("www");
    let stored = replace(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [{ "host": www, "targets": ["192.0.2.1"] }] }),
    )
    .await;
    assert_eq!(
        outbox(&fleet).await,
        [www.as_str()],
        "the report is in the outbox"
    );
    sqlx::query!("DELETE FROM dns_dirty_hosts")
        .execute(&fleet.flotilla.ctx.db)
        .await
        .expect("empty the outbox");

    // More than 1000: refused as a whole, at /endpoints.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({ "host": host(&format!("h{i}")), "targets": ["192.0.2.1"] }))
        .collect();
    let problem = refused_at(
        put_set(&fleet, "use1", &use1, json!({ "endpoints": many })).await,
        "/endpoints",
    )
    .await;
    assert!(problem.to_string().contains("at most 1000"), "{problem:#}");

    // Every bad entry is named, in one answer.
    let problem = refused(
        put_set(
            &fleet,
            "use1",
            &use1,
            json!({ "endpoints": [
                { "host": www, "targets": ["192.0.2.7"] },
                { "host": format!("WWW.{DOMAIN}."), "targets": ["192.0.2.8"] },
                { "host": "www.other.flotilla.localhost", "targets": ["192.0.2.3"] },
                { "host": host("api"), "targets": ["192.0.2.300"] },
                { "host": host("x"), "targets": ["192.0.2.4"], "weight": 256 },
            ]}),
        )
        .await,
        422,
    )
    .await;
    let errors = problem["errors"].as_array().expect("errors");
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        [
            "/endpoints/1/host",
            "/endpoints/2/host",
            "/endpoints/3/targets",
            "/endpoints/4/weight"
        ],
        "{problem:#}"
    );
    let said = |i: usize, what: &str| {
        let message = errors[i]["message"].as_str().expect("message");
        assert!(message.contains(what), "{message}");
    };
    said(0, "listed twice");
    said(1, DOMAIN);
    said(2, "neither an IP address");
    said(3, "0 to 255");
    // An unknown member is refused too.
    let r = put_set(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [{ "host": www, "targets": ["192.0.2.7"], "ttl": 5 }] }),
    )
    .await;
    assert_eq!(r.status(), 422, "unknown members are refused");

    // A body over the server's limit (1 MiB) is refused before it is read.
    let huge: Vec<Value> = (0..20_000)
        .map(|i| json!({ "host": host(&format!("host-{i}")), "targets": ["192.0.2.1", "2001:db8::1"] }))
        .collect();
    let r = put_set(&fleet, "use1", &use1, json!({ "endpoints": huge })).await;
    crate::support::problem::expect_problem(r, 413, "payload-too-large").await;

    // Only the cluster's own agent replaces its set: not a member, not another cluster.
    let problem = refused(
        fleet
            .call(
                Method::PUT,
                &set_url(&fleet, "use1"),
                &fleet.admin,
                Some(json!({ "endpoints": [] })),
            )
            .await,
        401,
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cluster assertion")),
        "{problem:#}"
    );
    let r = fleet
        .call(
            Method::PUT,
            &set_url(&fleet, "use1"),
            &fleet.assertion("euw1", &euw1),
            Some(json!({ "endpoints": [] })),
        )
        .await;
    refused(r, 403).await;

    // Nothing of all that was written.
    assert_eq!(
        read_set(&fleet, "use1", &fleet.admin).await["endpoints"],
        stored["endpoints"]
    );
    assert_eq!(outbox(&fleet).await, Vec::<String>::new());

    // The same set again: not written either, so nothing for DNS to do.
    let again = replace(
        &fleet,
        "use1",
        &use1,
        json!({ "endpoints": [{ "host": format!("{www}."), "targets": ["192.0.2.1"] }] }),
    )
    .await;
    assert_eq!(counts(&again), [0, 0, 1, 0], "{again:#}");
    assert_eq!(again["endpoints"], stored["endpoints"]);
    assert_eq!(outbox(&fleet).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_deregistered_cluster_cannot_report_a_set() {
    let fleet = Fleet::start().await;
    let use1 = ready_cluster(&fleet, "use1", "us-east-1").await;
    let euw1 = ready_cluster(&fleet, "euw1", "eu-west-1").await;
    let set = json!({ "endpoints": [{ "host": host("www"), "targets": ["192.0.2.1"] }] });
    replace(&fleet, "use1", &use1, set.clone()).await;

    // Deregistered through the API: its agents are cut off at once (their CA is gone).
    let generation = fleet.flotilla.ctx.auth.generation();
    assert_eq!(fleet.deregister("use1", &fleet.admin).await.status(), 204);
    // This replica forgot its caches at once and forgets them again when it hears its own
    // announcement; wait for that, or it could forget euw1's remembered assertion below.
    eventually(
        Duration::from_secs(10),
        "the deregistration heard",
        || async { (fleet.flotilla.ctx.auth.generation() >= generation + 2).then_some(()) },
    )
    .await;
    let problem = refused(put_set(&fleet, "use1", &use1, set.clone()).await, 401).await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("(chain)")),
        "{problem:#}"
    );

    // A set racing a deregistration (the row gone after the assertion was verified, as when
    // another replica's announcement has not arrived yet): no longer registered. One
    // assertion for all of euw1's requests: verified once, then remembered.
    let euw1_agent = fleet.assertion("euw1", &euw1);
    let url = set_url(&fleet, "euw1");
    let r = fleet
        .call(Method::PUT, &url, &euw1_agent, Some(set.clone()))
        .await;
    assert_eq!(r.status(), 200);
    sqlx::query!("DELETE FROM clusters WHERE name = 'euw1'")
        .execute(&fleet.flotilla.ctx.db)
        .await
        .expect("delete euw1 behind the server's back");
    for method in [Method::PUT, Method::GET] {
        let body = (method == Method::PUT).then(|| set.clone());
        let r = fleet.call(method.clone(), &url, &euw1_agent, body).await;
        let problem = refused(r, 401).await;
        assert_eq!(
            problem["detail"], "This cluster is no longer registered.",
            "{method}: {problem:#}"
        );
    }
}
