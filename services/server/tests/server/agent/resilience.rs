//! What the agent survives: Flotilla restarted under it, its own restart while the cluster
//! changed, and losing its leading replica.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::json;

use super::peers::{Agent, AgentSetup, Emulator};
use super::*;
use crate::support::server_binary::Flotilla;

fn setup<'a>(
    flotilla: &'a Flotilla,
    emulator: &'a Emulator,
    token: Option<&'a str>,
    pod: &'a str,
    env: &'a [(&'a str, &'a str)],
) -> AgentSetup<'a> {
    AgentSetup {
        flotilla,
        emulator,
        cluster: "eu-1",
        token,
        pod,
        env,
    }
}

#[tokio::test]
async fn flotilla_restarts_and_agent_restarts_lose_nothing() {
    let mut flotilla = Flotilla::start(&[]).await;
    let token = flotilla.registration_token(1).await;
    let eu = Emulator::start().await;
    eu.node("n1", "eu-west-1").await;
    eu.backend("shop", "web", true).await;
    let (a, b, c) = (host("a"), host("b"), host("c"));
    eu.ingress("shop", "a", &a, "web", &["192.0.2.1"], json!({}))
        .await;
    eu.ingress("shop", "b", &b, "web", &["192.0.2.2"], json!({}))
        .await;
    let agent = Agent::start(setup(&flotilla, &eu, Some(&token), "agent-0", &[]));
    dig_until(&flotilla, &a, &["192.0.2.1"], Duration::from_secs(30)).await;
    dig_until(&flotilla, &b, &["192.0.2.2"], Duration::from_secs(5)).await;

    // Flotilla goes away while the agent runs; the cluster changes meanwhile.
    flotilla.stop().await;
    eu.ingress("shop", "c", &c, "web", &["192.0.2.3"], json!({}))
        .await;
    eu.set_addresses("shop", "a", &["192.0.2.9"]).await;
    crate::support::eventually::eventually(
        Duration::from_secs(15),
        "the agent says Flotilla is unreachable",
        || async {
            match agent.readyz().await {
                Some((503, body)) if body["problems"]["flotilla"].is_string() => Some(()),
                _ => None,
            }
        },
    )
    .await;
    // Back: the agent catches up by itself, without a restart, and nothing is lost.
    flotilla.restart().await;
    dig_until(&flotilla, &c, &["192.0.2.3"], Duration::from_secs(40)).await;
    dig_until(&flotilla, &a, &["192.0.2.9"], Duration::from_secs(5)).await;
    dig_until(&flotilla, &b, &["192.0.2.2"], Duration::from_secs(5)).await;
    ready(&agent, Duration::from_secs(60)).await;
    status_until(&flotilla, "eu-1", "ready", Duration::from_secs(15)).await;

    // The agent stops; while it is away an Ingress is deleted and another changes. The
    // restarted agent, finding the cluster known, registers nothing (its token is used up
    // anyway) and its resync withdraws the stale endpoint.
    agent.signal(Signal::SIGTERM);
    let mut agent = agent;
    let status = agent.wait_exit(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit 0 on SIGTERM: {status:?}\n{}",
        agent.logs()
    );
    let registered = flotilla.cluster("eu-1").await.expect("eu-1");
    eu.delete_ingress("shop", "b").await;
    eu.set_addresses("shop", "c", &["192.0.2.4"]).await;
    let again = Agent::start(setup(&flotilla, &eu, Some(&token), "agent-1", &[]));
    dig_until(&flotilla, &b, &[], Duration::from_secs(30)).await;
    dig_until(&flotilla, &c, &["192.0.2.4"], Duration::from_secs(5)).await;
    assert_eq!(
        flotilla.cluster("eu-1").await.expect("eu-1")["updated_at"],
        registered["updated_at"],
        "a restart changes nothing of the registration"
    );
    // The resync took one read and one replacement.
    assert_eq!(
        again
            .metric("flotilla_agent_reports_total{call=\"endpoints\"}")
            .await,
        1.0
    );
    assert_eq!(
        again
            .metric("flotilla_agent_reports_total{call=\"replace\"}")
            .await,
        1.0
    );
    assert_eq!(
        again
            .metric("flotilla_agent_reports_total{call=\"report\"}")
            .await,
        0.0
    );
    assert_eq!(
        again
            .metric("flotilla_agent_reports_total{call=\"register\"}")
            .await,
        0.0
    );
}

#[tokio::test]
async fn of_two_replicas_one_acts_and_the_other_takes_over_when_it_dies() {
    let flotilla = Flotilla::start(&[]).await;
    let token = flotilla.registration_token(1).await;
    let eu = Emulator::start().await;
    eu.node("n1", "eu-west-1").await;
    eu.backend("shop", "web", true).await;
    let www = host("www");
    eu.ingress("shop", "www", &www, "web", &["192.0.2.1"], json!({}))
        .await;
    let lease = [("FLOTILLA_LEASE_DURATION", "4")];
    let first = Agent::start(setup(&flotilla, &eu, Some(&token), "agent-a", &lease));
    dig_until(&flotilla, &www, &["192.0.2.1"], Duration::from_secs(30)).await;
    assert_eq!(first.metric("flotilla_agent_leader").await, 1.0);
    let second = Agent::start(setup(&flotilla, &eu, Some(&token), "agent-b", &lease));
    ready(&second, Duration::from_secs(60)).await;
    assert_eq!(second.metric("flotilla_agent_leader").await, 0.0);

    // Only the leader reports; both heartbeat.
    eu.set_addresses("shop", "www", &["192.0.2.2"]).await;
    dig_until(&flotilla, &www, &["192.0.2.2"], Duration::from_secs(5)).await;
    assert!(
        first
            .metric("flotilla_agent_reports_total{call=\"report\"}")
            .await
            >= 1.0
    );
    for call in ["report", "withdraw", "replace", "register"] {
        let series = format!("flotilla_agent_reports_total{{call=\"{call}\"}}");
        assert_eq!(second.metric(&series).await, 0.0, "{call} by the standby");
    }
    assert!(
        second
            .metric("flotilla_agent_reports_total{call=\"heartbeat\"}")
            .await
            >= 1.0
    );
    let lease_holder = eu
        .get("/apis/coordination.k8s.io/v1/namespaces/admiralty/leases/flotilla-agent")
        .await
        .expect("the Lease");
    assert_eq!(lease_holder["spec"]["holderIdentity"], "agent-a");

    // The leader dies without a word: the standby takes over and reports the next change;
    // the cluster never stopped being ready (the standby heartbeats too).
    first.signal(Signal::SIGKILL);
    eventually(Duration::from_secs(15), "the standby leads", || async {
        (second.metric("flotilla_agent_leader").await == 1.0).then_some(())
    })
    .await;
    eu.set_addresses("shop", "www", &["192.0.2.3"]).await;
    dig_until(&flotilla, &www, &["192.0.2.3"], Duration::from_secs(10)).await;
    let events = flotilla
        .acme(reqwest::Method::GET, "/clusters/eu-1/events", None)
        .await
        .1;
    assert!(
        !events.to_string().contains("ready → stale"),
        "the handover never made the cluster stale: {events}"
    );
}
