//! Heartbeats: every `FLOTILLA_HEARTBEAT_INTERVAL` seconds (5), from every replica (the
//! standby too, so that losing the leader never looks like losing the cluster), with the
//! agent's version and a few figures. A failed beat is retried within a second or two rather
//! than at the next interval, so one lost request does not make the cluster stale; a Flotilla
//! outage never stops the agent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flotilla_client::clusters::{Heartbeat, Status};
use tokio::time::Instant;

use crate::backoff::{pause, Backoff};
use crate::endpoints::reporter::Shared;
use crate::flotilla::{is_unknown_cluster, Flotilla};
use crate::observe::health::Condition;
use crate::registration::AGENT_VERSION;
use crate::run::Ctx;

/// Beats until the agent stops.
pub async fn run(ctx: Arc<Ctx>, flotilla: Flotilla, shared: Arc<Shared>) {
    let mut stop = ctx.stop.clone();
    let interval = ctx.config.heartbeat_every();
    let mut retry = Backoff::new(Duration::from_millis(500), interval);
    let mut last_status: Option<Status> = None;
    loop {
        let started = Instant::now();
        let beat = Heartbeat {
            agent_version: AGENT_VERSION.to_owned(),
            figures: Some(figures(&ctx, &shared)),
        };
        let next = match flotilla.heartbeat(&beat).await {
            Ok(ack) => {
                ctx.metrics.heartbeat();
                ctx.health.ok(Condition::Flotilla);
                ctx.health.ok(Condition::Registration);
                if last_status != Some(ack.status) {
                    tracing::info!(status = ?ack.status, previous = %ack.previous_status, "heartbeat acknowledged");
                    last_status = Some(ack.status);
                }
                retry.reset();
                interval.saturating_sub(started.elapsed())
            }
            Err(e) => {
                if is_unknown_cluster(&e) {
                    ctx.health.problem(
                        Condition::Registration,
                        format!("Flotilla refuses the heartbeat: {e}"),
                    );
                } else {
                    ctx.health
                        .problem(Condition::Flotilla, format!("heartbeat failed: {e}"));
                }
                tracing::warn!(error = %e, "heartbeat failed; retrying");
                last_status = None;
                retry.next_delay()
            }
        };
        if !pause(next, &mut stop).await {
            return;
        }
    }
}

/// The heartbeat's figures: nodes, ready nodes, and the endpoints the cluster serves.
fn figures(ctx: &Ctx, shared: &Shared) -> BTreeMap<String, f64> {
    let (nodes, ready) = ctx.watches.node_counts();
    let mut figures = BTreeMap::from([
        ("nodes".to_owned(), nodes as f64),
        ("ready_nodes".to_owned(), ready as f64),
    ]);
    if let Some(endpoints) = shared.desired_endpoints() {
        figures.insert("endpoints".to_owned(), endpoints as f64);
    }
    figures
}
