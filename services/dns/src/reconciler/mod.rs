//! The reconciler: brings the provider's zone to the plan. One worker per zone at a time
//! (a Postgres advisory lock held on its own connection; another replica takes over when that
//! connection drops), so two replicas never apply a change twice. The others try the lock
//! every [`LOCK_RETRY`] rather than wait for it inside Postgres: a session blocked in
//! `pg_advisory_lock` outlives its process (Postgres does not notice the client is gone
//! while it waits) and holds back vacuum in the whole database.
//!
//! Each round: plan the hosts in the outbox (failovers first), then send one batch. Planning
//! again before every batch is what lets a change learned while a batch is in flight go right
//! after it, and a failover jump the queue. A batch the provider refuses is split in halves,
//! down to the one host it refuses, which is quarantined with the provider's error while the
//! rest goes through. Throttling and outages back off exponentially, with jitter.
//!
//! Where the SQL is: the zone's lock and backlog gauges here; the record sets in [`sets`] and
//! the change rows in [`changes`] (both shared by the steps); what a step alone runs in its
//! own module ([`planning`], [`batches`], [`resync`]), next to the logic it serves.

pub mod batches;
pub mod changes;
pub mod pacing;
pub mod planning;
pub mod resync;
pub mod sets;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use flotilla_core::AppContext;
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection};
use tokio::time::Instant;

use self::batches::Batch;
use self::pacing::Pacer;
use self::sets::HostId;
use crate::metrics::DnsMetrics;
use crate::providers::{Failure, Provider};
use crate::Dns;

/// The channel the outbox triggers notify.
pub const CHANNEL: &str = "flotilla_dns";
/// How often the whole zone is read again, to catch changes made behind Flotilla's back.
const RESYNC_EVERY: Duration = Duration::from_secs(15 * 60);
/// Longest sleep without a notification (a safety net; notifications wake the worker).
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// Advisory lock class of zone workers (the lock's second key is the zone's hash).
const LOCK_CLASS: i32 = 0x646e73; // "dns"
/// How often a replica that does not work the zone tries to take it over.
const LOCK_RETRY: Duration = Duration::from_millis(200);
/// How often the backlog gauges are read from Postgres, at most.
const GAUGES_EVERY: Duration = Duration::from_secs(1);

/// Runs the reconciler for `dns`' provider until the server stops.
pub async fn run(ctx: AppContext, dns: Arc<Dns>, provider: Arc<Provider>) {
    let zone = crate::providers::zone_of(&dns.settings, &ctx.config.dns_base_domain);
    loop {
        let worked = work_zone(&ctx, &dns.metrics, &provider, &zone).await;
        // A closed pool means the server is stopping: the lock's session ends with it.
        if ctx.listen_db.is_closed() {
            return;
        }
        if let Err(e) = worked {
            tracing::warn!(zone = %zone, error = format!("{e:#}"), "dns reconciler stopped; restarting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Takes the zone's lock (once no other replica holds it), then works it.
async fn work_zone(
    ctx: &AppContext,
    metrics: &DnsMetrics,
    provider: &Provider,
    zone: &str,
) -> anyhow::Result<()> {
    let mut lock = ctx.listen_db.acquire().await?;
    loop {
        let taken = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_lock($1, hashtext($2)) AS "taken!""#,
            LOCK_CLASS,
            zone,
        )
        .fetch_one(&mut *lock)
        .await?;
        if taken {
            break;
        }
        if ctx.listen_db.is_closed() {
            return Ok(());
        }
        tokio::time::sleep(LOCK_RETRY).await;
    }
    // Never back to the pool: the lock belongs to this session, and ends with it.
    let mut lock: PgConnection = lock.detach();
    tracing::info!(zone = %zone, "dns reconciler took the zone");
    let mut listener = PgListener::connect_with(&ctx.listen_db).await?;
    listener.listen(CHANNEL).await?;
    let mut worker = Worker {
        ctx,
        metrics,
        provider,
        zone,
        pace: Pacer::new(provider.min_interval()),
        splits: VecDeque::new(),
        resync_due: Instant::now(),
        gauges_due: Instant::now(),
        pending_shown: 0,
    };
    loop {
        if !matches!(provider, Provider::None) && Instant::now() >= worker.resync_due {
            worker.resync().await?;
        }
        while planning::plan_dirty(&ctx.db, zone, provider.flavour()).await? > 0 {}
        // The lock's connection must still be ours before anything is sent.
        lock.ping().await?;
        let sent = match provider {
            Provider::None => false,
            _ => worker.send_next().await?,
        };
        // Idle: the gauge must not go on showing a backlog that is gone.
        worker
            .read_gauges(!sent && worker.pending_shown > 0)
            .await?;
        if !sent {
            while listener.next_buffered().is_some() {}
            let _ = tokio::time::timeout(IDLE_WAIT, listener.recv()).await;
        }
    }
}

/// `value` as the text of a `jsonb` parameter (`$1::text::jsonb`): the workspace's sqlx has no
/// `json` feature, so its macros check such parameters as text. A value that cannot be written
/// fails as binding it would have.
pub(crate) fn jsonb_text(value: &impl serde::Serialize) -> sqlx::Result<String> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

struct Worker<'a> {
    ctx: &'a AppContext,
    metrics: &'a DnsMetrics,
    provider: &'a Provider,
    zone: &'a str,
    pace: Pacer,
    /// Halves of refused batches, waiting to be tried on their own.
    splits: VecDeque<Vec<HostId>>,
    resync_due: Instant,
    gauges_due: Instant,
    /// The pending changes the gauge last showed.
    pending_shown: i64,
}

impl Worker<'_> {
    /// Reads the zone, retrying with backoff until it can.
    async fn resync(&mut self) -> anyhow::Result<()> {
        loop {
            let started = Instant::now();
            match resync::resync(&self.ctx.db, self.zone, self.provider, &mut self.pace).await {
                Ok(found) => {
                    let metrics = self.metrics;
                    metrics.count_changes("applied", found.settled_applied);
                    metrics.count_changes("failed", found.settled_failed);
                    self.pace.succeeded();
                    self.splits.clear();
                    self.resync_due = Instant::now() + RESYNC_EVERY;
                    tracing::info!(zone = %self.zone, listed = found.listed, owned = found.owned,
                        requests = found.requests, ms = started.elapsed().as_millis() as u64, "dns zone read");
                    return Ok(());
                }
                Err(resync::ResyncError::Provider(failure)) => {
                    // The pacer holds the next listing request back.
                    let delay = self.pace.failed();
                    tracing::warn!(zone = %self.zone, error = %failure, retry_ms = delay.as_millis() as u64, "dns zone cannot be read");
                }
                Err(resync::ResyncError::Database(e)) => return Err(e.into()),
            }
        }
    }

    /// Reads the backlog gauges, at most once a second unless `now`.
    async fn read_gauges(&mut self, now: bool) -> anyhow::Result<()> {
        if !now && Instant::now() < self.gauges_due {
            return Ok(());
        }
        self.gauges_due = Instant::now() + GAUGES_EVERY;
        // Counts are never NULL, though a scalar subquery's column is always said nullable.
        let backlog = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM dns_changes WHERE zone = $1 AND status = 'pending') AS "pending!",
                    (SELECT count(DISTINCT (account_id, host)) FROM dns_record_sets
                     WHERE zone = $1 AND quarantine IS NOT NULL) AS "quarantined!""#,
            self.zone,
        )
        .fetch_one(&self.ctx.db)
        .await?;
        let (pending, quarantined) = (backlog.pending, backlog.quarantined);
        self.metrics.pending.set(pending);
        self.pending_shown = pending;
        self.metrics.quarantined_hosts.set(quarantined);
        Ok(())
    }

    /// Sends the next batch, if there is one. New work goes before halves of refused batches.
    async fn send_next(&mut self) -> anyhow::Result<bool> {
        let waiting: BTreeSet<HostId> = self.splits.iter().flatten().cloned().collect();
        let mut batch =
            batches::next(&self.ctx.db, self.metrics, self.zone, None, &waiting).await?;
        while batch.is_none() {
            let Some(hosts) = self.splits.pop_front() else {
                return Ok(false);
            };
            batch = batches::next(
                &self.ctx.db,
                self.metrics,
                self.zone,
                Some(&hosts),
                &BTreeSet::new(),
            )
            .await?;
        }
        if let Some(batch) = batch {
            self.submit(batch).await?;
        }
        Ok(true)
    }

    async fn submit(&mut self, batch: Batch) -> anyhow::Result<()> {
        let db = &self.ctx.db;
        let rows: Vec<(i64, Vec<changes::ActionView>)> = batch
            .hosts
            .iter()
            .map(|h| (h.row_id, changes::actions_json(&h.changes)))
            .collect();
        changes::mark_submitted(&mut *db.acquire().await?, &rows).await?;
        self.pace.ready().await;
        let changes = batch.changes();
        let outcome = self.provider.apply(&changes).await;
        let ids = batch.row_ids();
        let metrics = self.metrics;
        metrics.count_request(outcome.as_ref().map_or_else(Failure::kind, |_| "ok"));
        let mut tx = db.begin().await?;
        match outcome {
            Ok(ack) => {
                sets::mark_applied(&mut tx, self.zone, &changes).await?;
                changes::close(&mut tx, &ids, "applied", ack.change_id.as_deref(), None).await?;
                tx.commit().await?;
                self.pace.succeeded();
                let now = chrono::Utc::now();
                metrics.count_changes("applied", ids.len());
                for host in &batch.hosts {
                    let took = (now - host.learned_at).to_std().unwrap_or_default();
                    metrics.observe_change(host.failover, took);
                }
                let oldest = batch.hosts.iter().map(|h| h.learned_at).min();
                let lag = oldest.map(|t| (now - t).num_milliseconds()).unwrap_or(0);
                tracing::info!(zone = %self.zone, hosts = batch.hosts.len(), changes = changes.len(),
                    change_id = ack.change_id.as_deref().unwrap_or("-"), lag_ms = lag, "dns changes applied");
            }
            Err(Failure::Rejected(reason)) if batch.hosts.len() > 1 => {
                changes::requeue(&mut tx, &ids, None).await?;
                tx.commit().await?;
                let hosts = batch.host_ids();
                let (left, right) = hosts.split_at(hosts.len() / 2);
                self.splits.push_front(right.to_vec());
                self.splits.push_front(left.to_vec());
                tracing::info!(zone = %self.zone, hosts = hosts.len(), reason = %reason, "dns batch refused; splitting it");
            }
            Err(Failure::Rejected(reason)) => {
                let host = &batch.hosts[0];
                batches::quarantine(&mut tx, self.zone, &host.host, host.row_id, &reason).await?;
                tx.commit().await?;
                metrics.count_changes("quarantined", 1);
                tracing::warn!(zone = %self.zone, host = %host.host.1, reason = %reason, "dns change quarantined");
            }
            Err(failure @ (Failure::Throttled(_) | Failure::Unavailable(_))) => {
                changes::requeue(&mut tx, &ids, Some(&failure.to_string())).await?;
                tx.commit().await?;
                let delay = self.pace.failed();
                tracing::warn!(zone = %self.zone, error = %failure, retry_ms = delay.as_millis() as u64, "dns batch not applied; backing off");
            }
            Err(failure @ Failure::Unknown(_)) => {
                // The rows stay submitted: the resync decides whether they were applied.
                changes::note_error(&mut tx, &ids, &failure.to_string()).await?;
                tx.commit().await?;
                self.pace.failed();
                self.resync_due = Instant::now();
                tracing::warn!(zone = %self.zone, error = %failure, "dns batch outcome unknown; re-reading the zone");
            }
        }
        Ok(())
    }
}
