//! The planning step: takes hosts from the outbox, plans them from their endpoints, stores
//! the desired record sets, and queues a change for each host whose sets differ from what the
//! provider holds. One transaction: a crash leaves the hosts in the outbox. Holds the SQL of
//! that step: the outbox taken, the plan's inputs read, desired sets and queued changes
//! written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use super::changes::actions_json;
use super::jsonb_text;
use super::sets::{self, HostId, StoredSet};
use crate::hosts::{Host, Targets};
use crate::plan::{plan, Endpoint, Flavour};
use crate::records::{RecordData, RecordKey};

/// Most hosts planned in one transaction.
pub const HOSTS_PER_ROUND: i64 = 2000;

struct Dirty {
    account_id: Uuid,
    host: String,
    failover: bool,
    since: DateTime<Utc>,
}

struct EndpointRow {
    account_id: Uuid,
    host: String,
    cluster: String,
    region: Option<String>,
    weight: i16,
    serving: bool,
    targets: Vec<String>,
}

/// Plans up to [`HOSTS_PER_ROUND`] hosts from the outbox (failovers first). Returns how many.
pub async fn plan_dirty(db: &PgPool, zone: &str, flavour: Flavour) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let dirty = sqlx::query_as!(
        Dirty,
        "DELETE FROM dns_dirty_hosts d USING ( \
             SELECT account_id, host FROM dns_dirty_hosts ORDER BY failover DESC, since \
             LIMIT $1 FOR UPDATE SKIP LOCKED) t \
         WHERE d.account_id = t.account_id AND d.host = t.host \
         RETURNING d.account_id, d.host, d.failover, d.since",
        HOSTS_PER_ROUND,
    )
    .fetch_all(&mut *tx)
    .await?;
    if dirty.is_empty() {
        return Ok(0);
    }
    let hosts: Vec<HostId> = dirty
        .iter()
        .map(|d| (d.account_id, d.host.clone()))
        .collect();
    let (account_ids, names): (Vec<Uuid>, Vec<String>) = hosts.iter().cloned().unzip();
    // `serving` is of two NOT NULL columns, though an expression's column is said nullable.
    let endpoints = sqlx::query_as!(
        EndpointRow,
        r#"SELECT e.account_id, e.host, c.name AS cluster, c.labels ->> 'region' AS region, e.weight,
                  e.healthy AND c.status = 'ready' AS "serving!", e.targets
           FROM dns_endpoints e JOIN clusters c ON c.id = e.cluster_id
           JOIN unnest($1::uuid[], $2::text[]) AS h(account_id, host)
             ON e.account_id = h.account_id AND e.host = h.host
           ORDER BY c.name"#,
        &account_ids,
        &names,
    )
    .fetch_all(&mut *tx)
    .await?;
    let accounts: BTreeMap<Uuid, (String, i32)> = sqlx::query!(
        "SELECT id, name, dns_ttl FROM accounts WHERE id = ANY($1)",
        &account_ids,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|a| (a.id, (a.name, a.dns_ttl)))
    .collect();
    let mut by_host: BTreeMap<HostId, Vec<Endpoint>> = BTreeMap::new();
    for e in endpoints {
        by_host
            .entry((e.account_id, e.host))
            .or_default()
            .push(Endpoint {
                cluster: e.cluster,
                region: e.region,
                weight: i64::from(e.weight),
                serving: e.serving,
                targets: Targets::from_stored(&e.targets),
            });
    }
    let stored = sets::load(&mut tx, zone, &hosts).await?;

    let mut writes: Vec<(RecordKey, HostId, Option<RecordData>)> = Vec::new();
    let mut replanned: Vec<HostId> = Vec::new();
    let mut queue: Vec<(&Dirty, Vec<StoredSet>)> = Vec::new();
    let mut settled: Vec<HostId> = Vec::new();
    for d in &dirty {
        let id = (d.account_id, d.host.clone());
        let desired: BTreeMap<RecordKey, RecordData> = match accounts.get(&d.account_id) {
            Some((account, ttl)) => {
                let endpoints = by_host.get(&id).map(Vec::as_slice).unwrap_or_default();
                let host = Host::trusted(d.host.clone());
                plan(account, &host, flavour, i64::from(*ttl), endpoints)
                    .sets
                    .into_iter()
                    .map(|s| (s.key, s.data))
                    .collect()
            }
            // A deleted account's hosts are planned to nothing.
            None => BTreeMap::new(),
        };
        let old = stored.get(&id).cloned().unwrap_or_default();
        let before: BTreeMap<RecordKey, RecordData> = old
            .iter()
            .filter_map(|s| s.desired.as_ref().map(|j| (s.key(), j.0.clone())))
            .collect();
        let changed = before != desired;
        // The sets after this plan, for deciding whether the host has work queued.
        let mut after: Vec<StoredSet> = Vec::new();
        let keys: BTreeSet<RecordKey> = before.keys().chain(desired.keys()).cloned().collect();
        for key in keys {
            let applied = old
                .iter()
                .find(|s| s.key() == key)
                .and_then(|s| s.applied.clone());
            let want = desired.get(&key).cloned();
            if before.get(&key) != want.as_ref() {
                writes.push((key.clone(), id.clone(), want.clone()));
            }
            after.push(StoredSet {
                name: key.name,
                rtype: key.rtype,
                set_id: key.set_id,
                account_id: d.account_id,
                host: d.host.clone(),
                desired: want.map(Json),
                applied,
                quarantine: None,
            });
        }
        if changed {
            replanned.push(id.clone());
        }
        let quarantined = !changed && old.iter().any(|s| s.quarantine.is_some());
        if after.iter().all(StoredSet::settled) {
            settled.push(id);
        } else if !quarantined {
            queue.push((d, after));
        }
    }
    write_desired(&mut tx, zone, &writes).await?;
    if !replanned.is_empty() {
        let (a, h): (Vec<Uuid>, Vec<String>) = replanned.into_iter().unzip();
        sqlx::query!(
            "UPDATE dns_record_sets s SET quarantine = NULL FROM unnest($2::uuid[], $3::text[]) AS h(account_id, host) \
             WHERE s.zone = $1 AND s.account_id = h.account_id AND s.host = h.host AND s.quarantine IS NOT NULL",
            zone,
            &a,
            &h,
        )
        .execute(&mut *tx)
        .await?;
    }
    if !settled.is_empty() {
        let (a, h): (Vec<Uuid>, Vec<String>) = settled.into_iter().unzip();
        sqlx::query!(
            "DELETE FROM dns_changes c USING unnest($2::uuid[], $3::text[]) AS h(account_id, host) \
             WHERE c.zone = $1 AND c.status = 'pending' AND c.submitted_at IS NULL \
               AND c.account_id = h.account_id AND c.host = h.host",
            zone,
            &a,
            &h,
        )
        .execute(&mut *tx)
        .await?;
    }
    if !queue.is_empty() {
        let mut accounts = Vec::with_capacity(queue.len());
        let mut hosts = Vec::with_capacity(queue.len());
        let mut failovers = Vec::with_capacity(queue.len());
        let mut learned = Vec::with_capacity(queue.len());
        let mut actions = Vec::with_capacity(queue.len());
        for (d, after) in &queue {
            accounts.push(d.account_id);
            hosts.push(d.host.as_str());
            failovers.push(d.failover);
            learned.push(d.since);
            actions.push(jsonb_text(&actions_json(&sets::diff(after)))?);
        }
        // In the outbox's order, so the change rows' ids keep it.
        sqlx::query!(
            "INSERT INTO dns_changes (zone, account_id, host, failover, learned_at, actions) \
             SELECT $1, q.account_id, q.host, q.failover, q.learned_at, q.actions \
             FROM unnest($2::uuid[], $3::text[], $4::bool[], $5::timestamptz[], $6::text[]::jsonb[]) \
                 WITH ORDINALITY AS q(account_id, host, failover, learned_at, actions, n) \
             ORDER BY q.n \
             ON CONFLICT (zone, account_id, host) WHERE status = 'pending' AND submitted_at IS NULL \
             DO UPDATE SET failover = dns_changes.failover OR EXCLUDED.failover, actions = EXCLUDED.actions",
            zone,
            &accounts,
            &hosts as &[&str],
            &failovers,
            &learned,
            &actions,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(dirty.len())
}

/// Stores new desired data (None: the set should go), and forgets sets that are neither
/// desired nor held.
async fn write_desired(
    conn: &mut sqlx::PgConnection,
    zone: &str,
    writes: &[(RecordKey, HostId, Option<RecordData>)],
) -> sqlx::Result<()> {
    if !writes.is_empty() {
        let mut names = Vec::with_capacity(writes.len());
        let mut types = Vec::with_capacity(writes.len());
        let mut set_ids = Vec::with_capacity(writes.len());
        let mut accounts = Vec::with_capacity(writes.len());
        let mut hosts = Vec::with_capacity(writes.len());
        let mut data = Vec::with_capacity(writes.len());
        for (key, (account, host), desired) in writes {
            names.push(key.name.as_str());
            types.push(key.rtype.as_str());
            set_ids.push(key.set_id.as_str());
            accounts.push(*account);
            hosts.push(host.as_str());
            data.push(desired.as_ref().map(jsonb_text).transpose()?);
        }
        sqlx::query!(
            "INSERT INTO dns_record_sets (zone, name, type, set_id, account_id, host, desired) \
             SELECT $1, w.name, w.type, w.set_id, w.account_id, w.host, w.desired \
             FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[]::jsonb[]) \
                 AS w(name, type, set_id, account_id, host, desired) \
             ON CONFLICT (zone, name, type, set_id) DO UPDATE SET desired = EXCLUDED.desired, \
               planned_at = now()",
            zone,
            &names as &[&str],
            &types as &[&str],
            &set_ids as &[&str],
            &accounts,
            &hosts as &[&str],
            &data as &[Option<String>],
        )
        .execute(&mut *conn)
        .await?;
    }
    sets::forget_empty(conn, zone).await
}
