//! What the agent refuses or cannot do, said clearly (a log line, `/readyz`, an Event) while
//! it keeps serving the rest and retrying: no token, a used-up token, a CA Secret that is not
//! a CA, an Ingress host outside the zone, an annotation it cannot read. And a cluster
//! registered beforehand by the CLI, whose CA Secret the agent uses as it finds it.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::json;

use super::peers::{Agent, AgentSetup, Emulator};
use super::*;
use crate::support::pki::{Alg, Ca};
use crate::support::server_binary::Flotilla;

/// Waits until `/readyz` answers 503 with a `condition` problem containing `needle`.
async fn not_ready_because(agent: &Agent, condition: &str, needle: &str) -> String {
    eventually(
        Duration::from_secs(20),
        &format!("/readyz says {condition}: {needle}"),
        || async {
            match agent.readyz().await {
                Some((503, body)) => body["problems"][condition]
                    .as_str()
                    .filter(|p| p.contains(needle))
                    .map(str::to_owned),
                _ => None,
            }
        },
    )
    .await
}

#[tokio::test]
async fn without_a_usable_token_the_agent_says_why_and_registers_once_given_one() {
    let flotilla = Flotilla::start(&[]).await;
    let eu = Emulator::start().await;
    eu.node("n1", "eu-west-1").await;
    let mut agent = Agent::start(AgentSetup {
        flotilla: &flotilla,
        emulator: &eu,
        cluster: "eu-1",
        token: None,
        pod: "agent-0",
        env: &[],
    });
    // No token: said in /readyz, in an Event on its Pod and in its log; it keeps running.
    let problem = not_ready_because(&agent, "registration", "no registration token").await;
    assert!(
        problem.contains("Flotilla does not know cluster eu-1"),
        "{problem}"
    );
    event_until(&eu, "admiralty", "Pod", "agent-0", "RegistrationNeeded").await;
    assert!(
        agent.logs().contains("no registration token"),
        "{}",
        agent.logs()
    );

    // A used-up token: Flotilla's refusal, said the same way.
    let used = flotilla.registration_token(1).await;
    let (status, body) = raw_register(&flotilla, &used, "spent").await;
    assert_eq!(status, 201, "{body}");
    std::fs::write(&agent.token_file, &used).expect("write the token");
    let problem = not_ready_because(&agent, "registration", "registering it failed").await;
    assert!(
        problem.contains("401") || problem.contains("403"),
        "{problem}"
    );
    event_until(&eu, "admiralty", "Pod", "agent-0", "RegistrationFailed").await;
    assert!(
        agent.wait_exit(Duration::from_millis(100)).await.is_none(),
        "still running"
    );

    // A good token: registered, ready.
    let fresh = flotilla.registration_token(1).await;
    std::fs::write(&agent.token_file, &fresh).expect("write the token");
    status_until(&flotilla, "eu-1", "ready", Duration::from_secs(90)).await;
    ready(&agent, Duration::from_secs(60)).await;
    event_until(
        &eu,
        "admiralty",
        "Pod",
        "agent-0",
        "registered cluster eu-1",
    )
    .await;
    assert!(!agent.logs().contains(&fresh), "the token is never logged");
}

/// A DER certificate as PEM.
fn pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Registers `cluster` with a throwaway CA using `token`.
async fn raw_register(flotilla: &Flotilla, token: &str, cluster: &str) -> (u16, serde_json::Value) {
    let (ca, _) = crate::support::fleet::identity(cluster);
    let r = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/accounts/acme/clusters/{cluster}",
            flotilla.url
        ))
        .bearer_auth(token)
        .json(&crate::support::fleet::body(&ca, &[]))
        .send()
        .await
        .expect("Flotilla answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_cli_registered_cluster_and_bad_objects_are_handled_and_the_rest_served() {
    let flotilla = Flotilla::start(&[]).await;
    let eu = Emulator::start().await;
    eu.node("n1", "eu-west-1").await;
    // As `flotilla register-cluster --generate-identity-ca` leaves it: the cluster registered
    // with its CA's certificate, the key in the Secret. But first the Secret holds a leaf.
    let ca = Ca::root("eu-1 identity CA", Alg::P256);
    let (status, registered) = flotilla
        .acme(
            Method::PUT,
            "/clusters/eu-1",
            Some(crate::support::fleet::body(&ca, &[("region", "eu-west-1")])),
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let leaf = ca.leaf("spiffe://eu-1/x", Alg::P256);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    eu.create(
        "/api/v1/namespaces/admiralty/secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
               "metadata": {"name": "flotilla-identity-ca", "namespace": "admiralty"},
               "data": {"tls.crt": b64(&pem(&leaf.der)), "tls.key": b64(&leaf.key.serialize_pem())}}),
    )
    .await;
    let agent = Agent::start(AgentSetup {
        flotilla: &flotilla,
        emulator: &eu,
        cluster: "eu-1",
        token: None,
        pod: "agent-0",
        env: &[],
    });
    not_ready_because(&agent, "identity", "is not a CA certificate").await;
    event_until(&eu, "admiralty", "Pod", "agent-0", "InvalidIdentityCa").await;
    assert!(
        eu.get("/api/v1/namespaces/admiralty/secrets/flotilla-identity-ca")
            .await
            .expect("the Secret")["data"]["tls.crt"]
            == json!(b64(&pem(&leaf.der))),
        "a Secret that exists is never replaced"
    );
    // Fixed by its owner: the agent finds the cluster known, registers nothing, heartbeats.
    eu.patch(
        "/api/v1/namespaces/admiralty/secrets/flotilla-identity-ca",
        json!({"data": {"tls.crt": b64(&ca.pem()), "tls.key": b64(&ca.issuer.key().serialize_pem())}}),
    )
    .await;
    status_until(&flotilla, "eu-1", "ready", Duration::from_secs(60)).await;
    ready(&agent, Duration::from_secs(60)).await;
    let now = flotilla.cluster("eu-1").await.expect("eu-1");
    assert_eq!(
        now["updated_at"], registered["updated_at"],
        "no registration by the agent"
    );

    // Bad objects next to a good one: each said on its object, the good one served.
    eu.backend("shop", "web", true).await;
    let (good, outside, heavy) = (host("good"), "www.example.org".to_owned(), host("heavy"));
    eu.ingress("shop", "good", &good, "web", &["192.0.2.1"], json!({}))
        .await;
    eu.ingress(
        "shop",
        "outside",
        &outside,
        "web",
        &["192.0.2.2"],
        json!({}),
    )
    .await;
    eu.ingress(
        "shop",
        "heavy",
        &heavy,
        "web",
        &["192.0.2.3"],
        json!({"flotilla.io/weight": "heavy"}),
    )
    .await;
    dig_until(&flotilla, &good, &["192.0.2.1"], Duration::from_secs(15)).await;
    let events = event_until(&eu, "shop", "Ingress", "outside", "OutsideZone").await;
    assert!(
        events.iter().any(|e| e.contains(&format!(
            "Warning OutsideZone: not reported to Flotilla: host www.example.org is outside the account's zone {ZONE}"
        ))),
        "{events:?}"
    );
    event_until(
        &eu,
        "shop",
        "Ingress",
        "heavy",
        "flotilla.io/weight \"heavy\" is not a whole number",
    )
    .await;
    assert_eq!(flotilla.dig(&heavy).await, Vec::<String>::new());
    let (_, endpoints) = flotilla
        .acme(Method::GET, "/clusters/eu-1/endpoints", None)
        .await;
    let hosts: Vec<&str> = endpoints["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["host"].as_str())
        .collect();
    assert_eq!(hosts, [good.as_str()], "{endpoints}");
    ready(&agent, Duration::from_secs(60)).await;
}
