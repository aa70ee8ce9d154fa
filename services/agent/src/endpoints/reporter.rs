//! Keeps Flotilla's copy of the cluster's endpoints equal to what the watches say, while this
//! replica leads. After a start, a new leadership, a failure, and every
//! `FLOTILLA_RESYNC_INTERVAL`: one read of what Flotilla holds and, when it differs, one call
//! replacing the whole set (so an Ingress deleted while the agent was away is withdrawn). In
//! between, each watch event leads to one call per changed host. Every round is timed from
//! the change that caused it to Flotilla's answer, and ends with the objects' Events.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use flotilla_client::endpoints::{
    ClusterEndpoints, EndpointReport, EndpointSetReport, HostEndpointReport,
};
use flotilla_client::Error;
use futures_util::{stream, StreamExt};
use tokio::time::Instant;

use super::desired::{desired, Observed};
use super::Wanted;
use crate::backoff::{pause, Backoff};
use crate::flotilla::Flotilla;
use crate::observe::health::Condition;
use crate::run::Ctx;

/// Above this many changed hosts, one call replaces the set rather than one call per host.
const BULK_ABOVE: usize = 32;
/// Calls for single hosts in flight at once.
const CONCURRENT_CALLS: usize = 16;

/// What the reporter shares with the heartbeat.
#[derive(Default)]
pub struct Shared {
    desired: Mutex<Option<usize>>,
}

impl Shared {
    /// How many endpoints the cluster's objects offer, once the zone is known.
    pub fn desired_endpoints(&self) -> Option<usize> {
        self.desired.lock().ok().and_then(|d| *d)
    }
}

/// The reporter's knowledge between rounds.
struct Known {
    /// The account's zone, once Flotilla told it.
    zone: Option<String>,
    /// What Flotilla holds, as last seen or written; `None` forces a resync.
    reported: Option<BTreeMap<String, Wanted>>,
    /// When the next full resync is due.
    resync_at: Instant,
    /// How often a full resync is due.
    resync_every: Duration,
    /// When the first change not yet reported happened.
    dirty_since: Option<Instant>,
}

/// Reports until the agent stops.
pub async fn run(ctx: &Ctx, flotilla: &Flotilla, shared: &Shared) {
    let mut stop = ctx.stop.clone();
    let mut leadership = ctx.leadership.clone();
    let resync_every = Duration::from_secs(ctx.config.resync_interval);
    let mut known = Known {
        zone: None,
        reported: None,
        resync_at: Instant::now() + resync_every,
        resync_every,
        dirty_since: Some(Instant::now()),
    };
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    tokio::select! {
        _ = async { tokio::join!(ctx.watches.ready(), ctx.leadership.decided()) } => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    // The first round acts on the leadership as it is now; only later changes wake it.
    leadership.mark_seen();
    loop {
        let leading = ctx.leadership.is_leader();
        let failed = match round(ctx, flotilla, shared, &mut known, leading).await {
            Ok(()) => {
                backoff.reset();
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "reporting endpoints to Flotilla failed; resynchronising after a pause");
                ctx.health.problem(
                    Condition::Flotilla,
                    format!("reporting endpoints failed: {e}"),
                );
                known.reported = None;
                true
            }
        };
        if failed {
            tokio::select! {
                go_on = pause(backoff.next_delay(), &mut stop) => if !go_on { return; },
                () = leadership.changed() => {}
            }
            continue;
        }
        tokio::select! {
            () = ctx.watches.changed.notified() => {
                known.dirty_since.get_or_insert_with(Instant::now);
            }
            () = tokio::time::sleep_until(known.resync_at), if leading => {
                known.reported = None;
                known.dirty_since.get_or_insert_with(Instant::now);
            }
            () = leadership.changed() => {
                known.reported = None;
                known.dirty_since.get_or_insert_with(Instant::now);
            }
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One round: what the objects offer now, made Flotilla's (when leading).
async fn round(
    ctx: &Ctx,
    flotilla: &Flotilla,
    shared: &Shared,
    known: &mut Known,
    leading: bool,
) -> Result<(), Error> {
    // Whether `reported` was read in this very round.
    let mut just_read = false;
    let zone = match &known.zone {
        Some(zone) => zone.clone(),
        None => {
            let held = flotilla.endpoints().await?;
            known.zone = Some(held.zone.clone());
            known.reported = Some(held_map(&held));
            just_read = true;
            known.resync_at = Instant::now() + known.resync_every;
            tracing::info!(zone = %held.zone, endpoints = held.endpoints.len(), "Flotilla holds the cluster's endpoints");
            held.zone
        }
    };
    let (ingresses, services, slices) = (
        ctx.watches.ingresses.state(),
        ctx.watches.services.state(),
        ctx.watches.slices.state(),
    );
    let wanted = desired(&Observed {
        zone: &zone,
        ingresses: &ingresses,
        services: &services,
        slices: &slices,
    });
    if let Ok(mut d) = shared.desired.lock() {
        *d = Some(wanted.endpoints.len());
    }
    if !leading {
        known.reported = None;
        known.dirty_since = None;
        return Ok(());
    }
    let started = known.dirty_since.take().unwrap_or_else(Instant::now);
    match known.reported.take() {
        Some(reported) if just_read || Instant::now() < known.resync_at => {
            let reported = if just_read {
                sync_set(flotilla, reported, &wanted.endpoints).await?
            } else {
                sync_hosts(flotilla, reported, &wanted.endpoints).await?
            };
            known.reported = Some(reported);
        }
        _ => {
            known.resync_at = Instant::now() + known.resync_every;
            let held = flotilla.endpoints().await?;
            let reported = sync_set(flotilla, held_map(&held), &wanted.endpoints).await?;
            known.reported = Some(reported);
        }
    }
    let count = known.reported.as_ref().map_or(0, BTreeMap::len);
    ctx.metrics
        .endpoints
        .set(i64::try_from(count).unwrap_or(i64::MAX));
    ctx.metrics.reconciled(started.elapsed().as_secs_f64());
    ctx.health.ok(Condition::Flotilla);
    ctx.events.decisions(&wanted.decisions);
    Ok(())
}

/// Makes Flotilla hold `wanted` given that it holds `held`: nothing when equal, else one call
/// replacing the set.
async fn sync_set(
    flotilla: &Flotilla,
    held: BTreeMap<String, Wanted>,
    wanted: &BTreeMap<String, Wanted>,
) -> Result<BTreeMap<String, Wanted>, Error> {
    if &held == wanted {
        return Ok(held);
    }
    let set = EndpointSetReport {
        endpoints: wanted
            .iter()
            .map(|(host, w)| HostEndpointReport {
                host: host.clone(),
                targets: w.targets.clone(),
                weight: Some(w.weight),
                healthy: Some(w.healthy),
            })
            .collect(),
    };
    let answer = flotilla.replace(&set).await?;
    if let Some(changes) = &answer.changes {
        tracing::info!(
            created = changes.created,
            updated = changes.updated,
            unchanged = changes.unchanged,
            withdrawn = changes.withdrawn,
            "endpoint set replaced"
        );
    }
    Ok(held_map(&answer))
}

/// Makes Flotilla hold `wanted` given that it holds `held`, one call per changed host (or
/// one replacing the set when many changed).
async fn sync_hosts(
    flotilla: &Flotilla,
    mut held: BTreeMap<String, Wanted>,
    wanted: &BTreeMap<String, Wanted>,
) -> Result<BTreeMap<String, Wanted>, Error> {
    let mut changes: Vec<(String, Option<Wanted>)> = wanted
        .iter()
        .filter(|(host, w)| held.get(*host) != Some(*w))
        .map(|(host, w)| (host.clone(), Some(w.clone())))
        .collect();
    changes.extend(
        held.keys()
            .filter(|host| !wanted.contains_key(*host))
            .map(|host| (host.clone(), None)),
    );
    if changes.is_empty() {
        return Ok(held);
    }
    if changes.len() > BULK_ABOVE {
        return sync_set(flotilla, held, wanted).await;
    }
    let results: Vec<(String, Option<Wanted>, Result<(), Error>)> = stream::iter(changes)
        .map(|(host, change)| async move {
            let result = match &change {
                Some(w) => flotilla
                    .report(
                        &host,
                        &EndpointReport {
                            targets: w.targets.clone(),
                            weight: Some(w.weight),
                            healthy: Some(w.healthy),
                        },
                    )
                    .await
                    .map(|_| ()),
                None => flotilla.withdraw(&host).await,
            };
            (host, change, result)
        })
        .buffer_unordered(CONCURRENT_CALLS)
        .collect()
        .await;
    let mut first_error = None;
    for (host, change, result) in results {
        match (result, change) {
            (Ok(()), Some(w)) => {
                tracing::info!(host = %host, targets = ?w.targets, healthy = w.healthy, weight = w.weight, "endpoint reported");
                held.insert(host, w);
            }
            (Ok(()), None) => {
                tracing::info!(host = %host, "endpoint withdrawn");
                held.remove(&host);
            }
            (Err(e), _) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Ok(held),
        Some(e) => Err(e),
    }
}

/// What Flotilla holds, as the reporter compares it.
fn held_map(held: &ClusterEndpoints) -> BTreeMap<String, Wanted> {
    held.endpoints
        .iter()
        .map(|e| {
            (
                e.host.clone(),
                Wanted {
                    targets: e.targets.clone(),
                    weight: e.weight,
                    healthy: e.healthy,
                },
            )
        })
        .collect()
}
