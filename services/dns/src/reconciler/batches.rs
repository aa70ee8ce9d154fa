//! Forming the next batch: queued hosts (failovers first), their changes checked against
//! Route53's rules and what the zone holds, packed into one request within its limits.
//! A host the check refuses is quarantined at once, without a request. Holds the SQL that
//! reads the queue and quarantines a host.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::changes;
use super::sets::{self, HostId};
use crate::metrics::DnsMetrics;
use crate::records::Change;
use crate::rules::{self, MAX_CHARS, MAX_RECORDS};

/// Most hosts considered for one batch.
const HOSTS_PER_BATCH: i64 = 1000;

/// One host's share of a batch.
#[derive(Debug, Clone)]
pub struct HostWork {
    /// Its change row.
    pub row_id: i64,
    /// The host.
    pub host: HostId,
    /// When Flotilla learned what made the change.
    pub learned_at: DateTime<Utc>,
    /// Whether the host lost an endpoint.
    pub failover: bool,
    /// Its changes in this batch.
    pub changes: Vec<Change>,
}

/// A batch: one provider request.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The hosts in it.
    pub hosts: Vec<HostWork>,
}

impl Batch {
    /// Every change, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.hosts
            .iter()
            .flat_map(|h| h.changes.iter().cloned())
            .collect()
    }

    /// The hosts.
    pub fn host_ids(&self) -> Vec<HostId> {
        self.hosts.iter().map(|h| h.host.clone()).collect()
    }

    /// The change rows.
    pub fn row_ids(&self) -> Vec<i64> {
        self.hosts.iter().map(|h| h.row_id).collect()
    }
}

struct Queued {
    id: i64,
    account_id: Uuid,
    host: String,
    failover: bool,
    learned_at: DateTime<Utc>,
}

/// The next batch of queued hosts: among `only` when given, never among `exclude`. Hosts
/// that fail the preflight check are quarantined on the way (and counted in `metrics`).
pub async fn next(
    db: &PgPool,
    metrics: &DnsMetrics,
    zone: &str,
    only: Option<&[HostId]>,
    exclude: &BTreeSet<HostId>,
) -> anyhow::Result<Option<Batch>> {
    let (only_accounts, only_hosts): (Vec<Uuid>, Vec<String>) =
        only.unwrap_or_default().iter().cloned().unzip();
    let queued = sqlx::query_as!(
        Queued,
        "SELECT id, account_id, host, failover, learned_at FROM dns_changes \
         WHERE zone = $1 AND status = 'pending' AND submitted_at IS NULL \
           AND ($2 OR (account_id, host) IN (SELECT * FROM unnest($3::uuid[], $4::text[]))) \
         ORDER BY failover DESC, id LIMIT $5",
        zone,
        only.is_none(),
        &only_accounts,
        &only_hosts,
        HOSTS_PER_BATCH + exclude.len() as i64,
    )
    .fetch_all(db)
    .await?;
    let queued: Vec<Queued> = queued
        .into_iter()
        .filter(|q| !exclude.contains(&(q.account_id, q.host.clone())))
        .collect();
    if queued.is_empty() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let ids: Vec<HostId> = queued
        .iter()
        .map(|q| (q.account_id, q.host.clone()))
        .collect();
    let stored = sets::load(&mut tx, zone, &ids).await?;
    let work: Vec<(Queued, Vec<Change>)> = queued
        .into_iter()
        .map(|q| {
            let changes = stored
                .get(&(q.account_id, q.host.clone()))
                .map(|s| sets::diff(s))
                .unwrap_or_default();
            (q, changes)
        })
        .collect();
    // What foreign sets stand at the names of every change, in one query.
    let names: Vec<String> = work
        .iter()
        .flat_map(|(_, changes)| changes.iter().map(|c| c.set.key.name.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let foreign = sets::foreign_at(&mut tx, zone, &names).await?;
    let mut batch = Batch::default();
    let (mut records, mut chars) = (0usize, 0usize);
    let mut nothing_to_do = Vec::new();
    for (q, changes) in work {
        let id = (q.account_id, q.host.clone());
        if changes.is_empty() {
            nothing_to_do.push(q.id);
            continue;
        }
        let mut current = stored
            .get(&id)
            .map(|s| sets::applied_sets(s))
            .unwrap_or_default();
        current.extend(
            foreign
                .iter()
                .filter(|f| changes.iter().any(|c| c.set.key.name == f.key.name))
                .cloned(),
        );
        // The check includes the per-request limits, so a host that passes fits a request on
        // its own; one that would not is quarantined with that reason.
        if let Err(reason) = rules::check(&changes, &current) {
            let reason = format!("refused before sending: {reason}");
            quarantine(&mut tx, zone, &id, q.id, &reason).await?;
            metrics.count_changes("quarantined", 1);
            continue;
        }
        let (r, c) = changes
            .iter()
            .map(rules::cost)
            .fold((0, 0), |(r, c), (a, b)| (r + a, c + b));
        if records + r > MAX_RECORDS || chars + c > MAX_CHARS {
            break;
        }
        records += r;
        chars += c;
        batch.hosts.push(HostWork {
            row_id: q.id,
            host: id,
            learned_at: q.learned_at,
            failover: q.failover,
            changes,
        });
    }
    sqlx::query!("DELETE FROM dns_changes WHERE id = ANY($1)", &nothing_to_do)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((!batch.hosts.is_empty()).then_some(batch))
}

/// Quarantines a host: its change row closes with `reason`, and it is left alone until its
/// plan changes.
pub async fn quarantine(
    conn: &mut sqlx::PgConnection,
    zone: &str,
    host: &HostId,
    row_id: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dns_record_sets SET quarantine = $4 WHERE zone = $1 AND account_id = $2 AND host = $3",
        zone,
        host.0,
        &host.1,
        reason,
    )
    .execute(&mut *conn)
    .await?;
    changes::close(conn, &[row_id], "quarantined", None, Some(reason)).await
}
