//! A cluster's status from its heartbeats: `ready` while they arrive, `stale` after
//! `FLOTILLA_CLUSTER_STALE_AFTER` without one (its endpoints leave DNS), `offline` after
//! `FLOTILLA_CLUSTER_OFFLINE_AFTER` (or before the first). Heartbeats move a cluster back to
//! `ready` themselves (a stale one only once they have kept coming for
//! `FLOTILLA_CLUSTER_RECOVER_AFTER`: see `heartbeat::beats`); the sweeper here notices the
//! silence, on whichever replicas run it, each transition recorded once. Every transition is
//! a cluster event, a metric, and a `NOTIFY flotilla_cluster_status`; leaving or entering
//! `ready` also puts the cluster's hosts in the DNS outbox (a trigger), so DNS fails over at
//! once. The SQL is in `store`.

pub mod store;

use std::sync::Arc;
use std::time::Duration;

use flotilla_core::AppContext;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::metrics::ClusterMetrics;
use crate::settings::ClusterSettings;
use crate::Clusters;

/// How often the sweeper looks for silent clusters.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// The channel announcing status transitions.
pub const CHANNEL: &str = "flotilla_cluster_status";
/// Every how many sweeps the cluster gauges are refreshed (besides after a sweep that moved
/// clusters).
const GAUGE_EVERY: u32 = 5;

/// A cluster's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Heartbeats arrive: its endpoints are in DNS.
    Ready,
    /// No heartbeat for a few seconds, or heartbeats back but not yet steady: its endpoints
    /// are out of DNS.
    Stale,
    /// No heartbeat for long (or never).
    Offline,
}

impl Status {
    /// The status now of a cluster stored as `stored`, `silence` seconds after its last
    /// heartbeat (`None`: never had one). Computed rather than read, so that a reader sees
    /// the silence before the sweeper does; as in [`sweep`], a recent heartbeat keeps the
    /// stored status, since only heartbeats raise it (a stale cluster's only once they are
    /// steady: see `heartbeat::beats`), by the thresholds of `settings`.
    pub fn now(stored: &str, silence: Option<f64>, settings: &ClusterSettings) -> Self {
        match silence {
            Some(s) if s < settings.cluster_stale_after.0.as_secs_f64() => Status::parse(stored),
            Some(s) if s < settings.cluster_offline_after.0.as_secs_f64() => Status::Stale,
            _ => Status::Offline,
        }
    }

    /// Its name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Stale => "stale",
            Status::Offline => "offline",
        }
    }

    /// The status stored as `s`.
    pub fn parse(s: &str) -> Self {
        match s {
            "ready" => Status::Ready,
            "stale" => Status::Stale,
            _ => Status::Offline,
        }
    }
}

/// Records transitions (cluster, from, to) in the transaction that made them: their events
/// and announcements in one statement each, and the metric.
pub async fn record_transitions(
    metrics: &ClusterMetrics,
    conn: &mut PgConnection,
    moved: &[(Uuid, String, Status)],
) -> Result<(), sqlx::Error> {
    if moved.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = moved.iter().map(|(id, _, _)| *id).collect();
    let details: Vec<String> = moved
        .iter()
        .map(|(_, from, to)| format!("{from} → {}", to.as_str()))
        .collect();
    store::insert_status_events(conn, &ids, &details).await?;
    store::notify(conn, CHANNEL, &ids).await?;
    for (_, from, to) in moved {
        metrics.count_transition(Status::parse(from).as_str(), to.as_str());
    }
    Ok(())
}

/// Moves silent clusters to `stale` or `offline`, every [`SWEEP_INTERVAL`], until the end.
pub async fn run_sweeper(ctx: AppContext, clusters: Arc<Clusters>) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round = 0u32;
    loop {
        tick.tick().await;
        let moved = sweep(&ctx, &clusters).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cluster status sweep failed; retrying");
            0
        });
        // Counted now and then, and at once when this replica moved clusters.
        if moved > 0 || round.is_multiple_of(GAUGE_EVERY) {
            if let Err(e) = refresh_gauges(&ctx, &clusters.metrics).await {
                tracing::warn!(error = %e, "counting clusters failed");
            }
        }
        round = round.wrapping_add(1);
    }
}

/// One sweep: each cluster silent for longer than its stored status allows moves down, once,
/// with its event (rows another replica is moving are skipped, not waited for). Only
/// heartbeats move a cluster up. The thresholds are `clusters`' settings.
pub async fn sweep(ctx: &AppContext, clusters: &Clusters) -> Result<usize, sqlx::Error> {
    let mut tx = ctx.db.begin().await?;
    let moved = store::sweep(
        &mut tx,
        clusters.settings.cluster_stale_after.0.as_secs_f64(),
        clusters.settings.cluster_offline_after.0.as_secs_f64(),
    )
    .await?;
    for row in &moved {
        tracing::info!(cluster = %row.id, from = %row.old, to = %row.new, "cluster status changed");
    }
    let moved: Vec<(Uuid, String, Status)> = moved
        .into_iter()
        .map(|row| (row.id, row.old, Status::parse(&row.new)))
        .collect();
    record_transitions(&clusters.metrics, &mut tx, &moved).await?;
    tx.commit().await?;
    Ok(moved.len())
}

async fn refresh_gauges(ctx: &AppContext, metrics: &ClusterMetrics) -> Result<(), sqlx::Error> {
    let counts = store::count_by_status(&mut *ctx.db.acquire().await?).await?;
    for status in [Status::Ready, Status::Stale, Status::Offline] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        metrics.set_clusters(status.as_str(), n);
    }
    Ok(())
}
