//! deploy/monitoring against a live scrape: Debian's Prometheus scrapes the real binary (after
//! a cluster has registered, heartbeated and put a host in DNS, so that every family has
//! series), loads rules.yaml, and then every rule must evaluate without error, every query of
//! dashboard.json must run, and every metric they name must exist in the scrape.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fleet::{agent_id, body, identity};
use crate::support::prometheus::Prometheus;
use crate::support::server_binary::Flotilla;

/// Every name of a Flotilla metric in `expr` (`flotilla_...`; recording rules' names have
/// colons and are left out).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("flotilla_") {
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        if !preceded && !rest.starts_with(':') {
            names.push(name);
        }
    }
    names
}

#[tokio::test]
async fn every_alert_and_dashboard_query_runs_against_a_live_scrape() {
    let flotilla = Flotilla::start(&[]).await;
    // Series for every family: a registration, a heartbeat (a status transition), and an
    // endpoint reported (a DNS change, applied by PowerDNS).
    let (ca, leaf) = identity("eu-1");
    let (status, answer) = flotilla
        .acme(
            Method::PUT,
            "/clusters/eu-1",
            Some(body(&ca, &[("region", "eu-west-1")])),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let http = reqwest::Client::new();
    let agent = |method: Method, path: &str, body: Value| {
        let assertion = leaf.assertion(&flotilla.url, &agent_id("eu-1"), &[]);
        http.request(
            method,
            format!("{}/api/v1/accounts/acme/clusters/eu-1{path}", flotilla.url),
        )
        .bearer_auth(assertion)
        .json(&body)
        .send()
    };
    let beat = agent(
        Method::POST,
        "/heartbeat",
        json!({"agent_version": "0.1.0"}),
    );
    assert_eq!(beat.await.expect("heartbeat").status(), 200);
    let host = "/endpoints/www.acme.flotilla.localhost";
    let up = agent(Method::PUT, host, json!({"targets": ["192.0.2.1"]}));
    assert!(up.await.expect("report").status().is_success());
    crate::support::eventually::eventually(
        Duration::from_secs(10),
        "the record in PowerDNS",
        || async { (!flotilla.dig("www.acme.flotilla.localhost").await.is_empty()).then_some(()) },
    )
    .await;
    let target = flotilla.url.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(&target).await;
    // Scraped, and every rule evaluated at least once since.
    let rules = crate::support::eventually::eventually(
        Duration::from_secs(60),
        "a scrape and an evaluation",
        || async {
            let up = prometheus
                .api("query", &[("query", "up{job=\"flotilla\"} == 1")])
                .await
                .ok()?;
            up["result"].as_array().filter(|r| !r.is_empty())?;
            let groups = prometheus.api("rules", &[]).await.ok()?;
            let rules: Vec<Value> = groups["groups"]
                .as_array()?
                .iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .collect();
            let evaluated = !rules.is_empty()
                && rules.iter().all(|r| {
                    !r["lastEvaluation"]
                        .as_str()
                        .unwrap_or("0001")
                        .starts_with("0001")
                });
            evaluated.then_some(rules)
        },
    )
    .await;
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for rule in &rules {
        let name = rule["name"].as_str().unwrap_or("?");
        if rule["health"] != "ok" {
            problems.push(format!(
                "rule {name}: {} {}",
                rule["health"], rule["lastError"]
            ));
        }
        used.extend(metric_names(rule["query"].as_str().unwrap_or_default()));
    }
    assert!(
        rules.len() >= 20,
        "rules.yaml's rules were not all loaded: {rules:#?}"
    );

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::workspace::repo().join("deploy/monitoring/dashboard.json"),
        )
        .expect("dashboard.json"),
    )
    .expect("JSON");
    let queries: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(|e| e.replace("$job", ".*")))
        .collect();
    assert!(queries.len() >= 10, "{queries:?}");
    for query in &queries {
        if let Err(e) = prometheus.api("query", &[("query", query)]).await {
            problems.push(format!("dashboard query {query}: {e}"));
        }
        used.extend(metric_names(query));
    }

    let scraped = prometheus
        .api("label/__name__/values", &[])
        .await
        .expect("names");
    let scraped: BTreeSet<&str> = scraped
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in &used {
        if !scraped.contains(name.as_str()) {
            problems.push(format!("{name} is not in the scrape"));
        }
    }
    assert!(used.len() >= 12, "too few metrics named: {used:?}");
    assert!(problems.is_empty(), "{problems:#?}\nscraped: {scraped:?}");
}

#[test]
fn metric_names_are_found_and_recording_rules_left_out() {
    assert_eq!(
        metric_names("sum(rate(flotilla_http_request_duration_seconds_count{x=\"flotilla_no\"}[5m])) / flotilla:db_pool:utilisation + max(flotilla_ready)"),
        ["flotilla_http_request_duration_seconds_count", "flotilla_no", "flotilla_ready"]
    );
}
