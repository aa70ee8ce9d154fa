//! Two clusters, each with its agent and its emulated API, one Flotilla and PowerDNS: the
//! user's story from first start to a dead cluster leaving DNS.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::json;

use super::peers::{Agent, AgentSetup, Emulator};
use super::*;
use crate::support::server_binary::Flotilla;

#[tokio::test]
async fn two_clusters_put_their_ingresses_in_dns_and_a_dead_one_leaves_within_10_s() {
    // Default settings: heartbeats every 5 s, stale (out of DNS) after 8 s.
    let flotilla = Flotilla::start(&[]).await;
    let token = flotilla.registration_token(2).await;
    let (eu, us) = (Emulator::start().await, Emulator::start().await);
    eu.node("eu-node-1", "eu-west-1").await;
    us.node("us-node-1", "us-east-1").await;

    // First start: no CA Secret, so each agent makes its CA and registers with the token,
    // and the cluster is ready within one heartbeat interval.
    let spawned = Instant::now();
    let eu_agent = Agent::start(AgentSetup {
        flotilla: &flotilla,
        emulator: &eu,
        cluster: "eu-1",
        token: Some(&token),
        pod: "agent-eu",
        env: &[],
    });
    let us_agent = Agent::start(AgentSetup {
        flotilla: &flotilla,
        emulator: &us,
        cluster: "us-1",
        token: Some(&token),
        pod: "agent-us",
        env: &[],
    });
    for (agent, emulator, cluster, region) in [
        (&eu_agent, &eu, "eu-1", "eu-west-1"),
        (&us_agent, &us, "us-1", "us-east-1"),
    ] {
        let registered = status_until(&flotilla, cluster, "ready", Duration::from_secs(30)).await;
        eprintln!(
            "{cluster} ready {:?} after its agent started",
            spawned.elapsed()
        );
        assert!(
            spawned.elapsed() < Duration::from_secs(5),
            "ready {:?} after the agent started",
            spawned.elapsed()
        );
        assert_eq!(registered["labels"]["region"], region, "{registered}");
        assert_eq!(registered["server"], emulator.url, "{registered}");
        assert!(registered["agent_version"].is_string(), "{registered}");
        let secret = emulator
            .get("/api/v1/namespaces/admiralty/secrets/flotilla-identity-ca")
            .await
            .expect("the agent made its CA Secret");
        assert_eq!(secret["type"], "kubernetes.io/tls");
        assert!(secret["data"]["tls.key"].is_string());
        ready(agent, Duration::from_secs(15)).await;
        event_until(
            emulator,
            "admiralty",
            "Pod",
            &format!("agent-{}", &cluster[..2]),
            "registered cluster",
        )
        .await;
        let logs = agent.logs();
        assert!(!logs.contains("PRIVATE KEY"), "the CA key is never logged");
        assert!(!logs.contains("eyJ"), "no assertion is logged");
    }

    // An Ingress in each cluster: as soon as its load balancer has an address, dig answers
    // with both clusters' addresses.
    let hello = host("hello-world");
    for (emulator, address) in [(&eu, "192.0.2.10"), (&us, "192.0.2.20")] {
        emulator.backend("shop", "web", true).await;
        emulator
            .ingress("shop", "hello", &hello, "web", &[], json!({}))
            .await;
        event_until(emulator, "shop", "Ingress", "hello", "WaitingForAddress").await;
        emulator.set_addresses("shop", "hello", &[address]).await;
    }
    dig_until(
        &flotilla,
        &hello,
        &["192.0.2.10", "192.0.2.20"],
        Duration::from_secs(10),
    )
    .await;
    let events = event_until(&eu, "shop", "Ingress", "hello", "reported to Flotilla as").await;
    assert!(
        events.iter().any(|e| e.contains(&format!(
            "Normal Reported: reported to Flotilla as {hello} → 192.0.2.10 (healthy, weight 1)"
        ))),
        "{events:?}"
    );

    // A backend without a ready endpoint: that cluster's endpoint is unhealthy, out of DNS.
    us.set_ready("shop", "web", false).await;
    dig_until(&flotilla, &hello, &["192.0.2.10"], Duration::from_secs(5)).await;
    event_until(
        &us,
        "shop",
        "Ingress",
        "hello",
        "no ready endpoint behind Service web",
    )
    .await;
    us.set_ready("shop", "web", true).await;
    dig_until(
        &flotilla,
        &hello,
        &["192.0.2.10", "192.0.2.20"],
        Duration::from_secs(5),
    )
    .await;

    // The load balancer loses its address: withdrawn.
    eu.set_addresses("shop", "hello", &[]).await;
    dig_until(&flotilla, &hello, &["192.0.2.20"], Duration::from_secs(5)).await;
    let (_, endpoints) = flotilla
        .acme(reqwest::Method::GET, "/clusters/eu-1/endpoints", None)
        .await;
    assert_eq!(endpoints["endpoints"], json!([]), "{endpoints}");
    eu.set_addresses("shop", "hello", &["192.0.2.11"]).await;
    dig_until(
        &flotilla,
        &hello,
        &["192.0.2.11", "192.0.2.20"],
        Duration::from_secs(5),
    )
    .await;

    // The Ingress deleted: withdrawn.
    us.delete_ingress("shop", "hello").await;
    dig_until(&flotilla, &hello, &["192.0.2.11"], Duration::from_secs(5)).await;
    us.ingress("shop", "hello", &hello, "web", &["192.0.2.21"], json!({}))
        .await;
    dig_until(
        &flotilla,
        &hello,
        &["192.0.2.11", "192.0.2.21"],
        Duration::from_secs(5),
    )
    .await;

    // A LoadBalancer Service annotated with a host counts the same way, with its weight.
    let api = host("api");
    us.create(
        "/api/v1/namespaces/shop/services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "api", "namespace": "shop",
                            "annotations": {"flotilla.io/hostname": api, "flotilla.io/weight": "7"}},
               "spec": {"type": "LoadBalancer"},
               "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.30"}]}}}),
    )
    .await;
    us.create(
        "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices",
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": "api-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api"}},
               "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.0.9"]}]}),
    )
    .await;
    dig_until(&flotilla, &api, &["192.0.2.30"], Duration::from_secs(5)).await;
    let (_, us_endpoints) = flotilla
        .acme(reqwest::Method::GET, "/clusters/us-1/endpoints", None)
        .await;
    let reported = us_endpoints["endpoints"]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["host"] == api))
        .cloned()
        .unwrap_or_else(|| panic!("{us_endpoints}"));
    assert_eq!(reported["weight"], 7);

    // One cluster dies (its agent stops for good): its addresses leave DNS within 10 s.
    eu_agent.signal(Signal::SIGKILL);
    let gone = dig_until(&flotilla, &hello, &["192.0.2.21"], Duration::from_secs(12)).await;
    eprintln!("eu-1 left DNS {gone:?} after its agent was killed");
    assert!(gone < Duration::from_secs(10), "left DNS after {gone:?}");
    status_until(&flotilla, "eu-1", "stale", Duration::from_secs(2)).await;
    let us_status = flotilla.cluster("us-1").await.expect("us-1");
    assert_eq!(us_status["status"], "ready");
    drop(us_agent);
}
