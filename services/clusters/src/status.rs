//! A cluster's status from its heartbeats: `ready` while they arrive, `stale` after
//! `FLOTILLA_CLUSTER_STALE_AFTER` without one, `offline` after `FLOTILLA_CLUSTER_OFFLINE_AFTER`
//! (or before the first). Heartbeats move a cluster back to `ready` themselves; the sweeper
//! here notices the silence, on whichever replicas run it, each transition recorded once.
//! Every transition is a cluster event, a metric, and a `NOTIFY flotilla_cluster_status` so
//! that the DNS service re-plans at once (an offline cluster's endpoints leave DNS).

use std::time::Duration;

use flotilla_core::config::Config;
use flotilla_core::AppContext;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

/// How often the sweeper looks for silent clusters.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// The channel announcing status transitions.
pub const CHANNEL: &str = "flotilla_cluster_status";
/// Every how many sweeps the cluster gauges are refreshed.
const GAUGE_EVERY: u32 = 5;

/// A cluster's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Heartbeats arrive.
    Ready,
    /// No heartbeat for a while.
    Stale,
    /// No heartbeat for long (or never): its endpoints leave DNS.
    Offline,
}

impl Status {
    /// The status after `silence` seconds without a heartbeat (`None`: never had one).
    pub fn after(silence: Option<f64>, config: &Config) -> Self {
        match silence {
            Some(s) if s < config.cluster_stale_after.0.as_secs_f64() => Status::Ready,
            Some(s) if s < config.cluster_offline_after.0.as_secs_f64() => Status::Stale,
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

    fn parse(s: &str) -> Self {
        match s {
            "ready" => Status::Ready,
            "stale" => Status::Stale,
            _ => Status::Offline,
        }
    }
}

/// Records a transition of `cluster` (event, announcement, metric) in the transaction that
/// made it.
pub async fn record_transition(
    ctx: &AppContext,
    conn: &mut PgConnection,
    cluster: Uuid,
    from: &str,
    to: Status,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO cluster_events (cluster_id, kind, detail) VALUES ($1, 'status', $2)")
        .bind(cluster)
        .bind(format!("{from} → {}", to.as_str()))
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(cluster.to_string())
        .execute(&mut *conn)
        .await?;
    ctx.metrics
        .count_transition(Status::parse(from).as_str(), to.as_str());
    Ok(())
}

/// Moves silent clusters to `stale` or `offline`, every [`SWEEP_INTERVAL`], until the end.
pub async fn run_sweeper(ctx: AppContext) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round = 0u32;
    loop {
        tick.tick().await;
        if let Err(e) = sweep(&ctx).await {
            tracing::warn!(error = %e, "cluster status sweep failed; retrying");
        }
        if round % GAUGE_EVERY == 0 {
            if let Err(e) = refresh_gauges(&ctx).await {
                tracing::warn!(error = %e, "counting clusters failed");
            }
        }
        round = round.wrapping_add(1);
    }
}

/// One sweep: each cluster whose stored status no longer matches its silence moves, once,
/// with its event (rows another replica is moving are skipped, not waited for).
pub async fn sweep(ctx: &AppContext) -> Result<usize, sqlx::Error> {
    let mut tx = ctx.db.begin().await?;
    let moved: Vec<(Uuid, String, String)> = sqlx::query_as(
        "WITH due AS ( \
            SELECT id, status AS old, CASE \
                WHEN last_heartbeat_at > now() - make_interval(secs => $1) THEN 'ready' \
                WHEN last_heartbeat_at > now() - make_interval(secs => $2) THEN 'stale' \
                ELSE 'offline' END AS new \
            FROM clusters \
            WHERE status <> CASE \
                WHEN last_heartbeat_at > now() - make_interval(secs => $1) THEN 'ready' \
                WHEN last_heartbeat_at > now() - make_interval(secs => $2) THEN 'stale' \
                ELSE 'offline' END \
            FOR UPDATE SKIP LOCKED) \
         UPDATE clusters c SET status = due.new, status_changed_at = now() \
         FROM due WHERE c.id = due.id RETURNING c.id, due.old, due.new",
    )
    .bind(ctx.config.cluster_stale_after.0.as_secs_f64())
    .bind(ctx.config.cluster_offline_after.0.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    for (cluster, old, new) in &moved {
        record_transition(ctx, &mut tx, *cluster, old, Status::parse(new)).await?;
        tracing::info!(cluster = %cluster, from = %old, to = %new, "cluster status changed");
    }
    tx.commit().await?;
    Ok(moved.len())
}

async fn refresh_gauges(ctx: &AppContext) -> Result<(), sqlx::Error> {
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM clusters GROUP BY status")
            .fetch_all(&ctx.db)
            .await?;
    for status in [Status::Ready, Status::Stale, Status::Offline] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        ctx.metrics.set_clusters(status.as_str(), n);
    }
    Ok(())
}
