//! Resync: reads the whole zone from the provider and makes Postgres agree with it. Flotilla's
//! sets are recognised by its rows and by the TXT marker at `_flotilla.<host>` (a set at a
//! host carrying our marker, or one holding exactly what we last wrote, is ours); everything
//! else is foreign and only ever read. Runs when a worker takes a zone (so a crash at any point
//! converges), after a request whose outcome is unknown, and periodically to catch drift.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::changes::{self, ActionView};
use super::pacing::Pacer;
use super::sets::{self, StoredSet};
use crate::hosts::{host_of, DERIVED_LABEL};
use crate::plan::marker_account;
use crate::providers::{Failure, Provider};
use crate::records::{Action, RecordData, RecordKey, RecordSet};

/// What a resync found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resynced {
    /// Record sets in the zone.
    pub listed: usize,
    /// Of those, Flotilla's.
    pub owned: usize,
    /// Requests the listing took.
    pub requests: u32,
    /// Changes whose answer was lost, found applied in the zone.
    pub settled_applied: usize,
    /// Changes whose answer was lost, not found in the zone (to be sent again).
    pub settled_failed: usize,
}

/// Why a resync did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    /// The provider could not be read.
    #[error(transparent)]
    Provider(#[from] Failure),
    /// Postgres failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Reads the zone and records what the provider holds of Flotilla's sets.
pub async fn resync(
    db: &PgPool,
    zone: &str,
    provider: &Provider,
    pace: &mut Pacer,
) -> Result<Resynced, ResyncError> {
    let listing = provider.list(pace).await?;
    let listed: BTreeMap<RecordKey, RecordData> = listing
        .sets
        .iter()
        .map(|s| (s.key.clone(), s.data.clone()))
        .collect();
    let mut tx = db.begin().await?;
    let rows: Vec<StoredSet> = sqlx::query_as(
        "SELECT name, type, set_id, account_id, host, desired, applied, quarantine \
         FROM dns_record_sets WHERE zone = $1 FOR UPDATE",
    )
    .bind(zone)
    .fetch_all(&mut *tx)
    .await?;
    // Hosts carrying an ownership marker, and the account it names.
    let markers: BTreeMap<&str, &str> = listing
        .sets
        .iter()
        .filter(|s| s.key.rtype == "TXT" && s.key.name.starts_with(DERIVED_LABEL))
        .filter_map(|s| {
            Some((
                host_of(&s.key.name),
                s.data.values.iter().find_map(|v| marker_account(v))?,
            ))
        })
        .collect();
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| r.account_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: Vec<&str> = markers
        .values()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let accounts: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM accounts WHERE id = ANY($1) OR name = ANY($2)")
            .bind(&ids)
            .bind(&names)
            .fetch_all(&mut *tx)
            .await?;
    let name_of: BTreeMap<Uuid, &str> = accounts.iter().map(|(id, n)| (*id, n.as_str())).collect();
    let id_of: BTreeMap<&str, Uuid> = accounts.iter().map(|(id, n)| (n.as_str(), *id)).collect();
    let marked = |account: Uuid, host: &str| {
        name_of
            .get(&account)
            .is_some_and(|name| markers.get(host) == Some(name))
    };
    let mut claimed: BTreeSet<RecordKey> = BTreeSet::new();
    let mut applied: Vec<(RecordKey, Option<RecordData>)> = Vec::new();
    for row in &rows {
        let key = row.key();
        let held = listed.get(&key).filter(|data| {
            marked(row.account_id, &row.host) || row.applied.as_ref().is_some_and(|a| &a.0 == *data)
        });
        if held.is_some() {
            claimed.insert(key.clone());
        }
        if held != row.applied.as_ref().map(|a| &a.0) {
            applied.push((key, held.cloned()));
        }
    }
    // Sets of a host carrying our marker that Postgres has forgotten (e.g. restored from an
    // older backup): ours, to be planned again.
    let known_hosts: BTreeSet<&str> = rows.iter().map(|r| r.host.as_str()).collect();
    let mut adopted: Vec<(RecordKey, Uuid, String, RecordData)> = Vec::new();
    for (key, data) in &listed {
        let host = host_of(&key.name);
        if known_hosts.contains(host) {
            continue;
        }
        if let Some(&account) = markers.get(host).and_then(|name| id_of.get(name)) {
            claimed.insert(key.clone());
            adopted.push((key.clone(), account, host.to_owned(), data.clone()));
        }
    }
    sets::write_applied(&mut tx, zone, &applied).await?;
    for chunk in adopted.chunks(5000) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO dns_record_sets (zone, name, type, set_id, account_id, host, applied) ",
        );
        q.push_values(chunk, |mut row, (key, account, host, data)| {
            row.push_bind(zone)
                .push_bind(&key.name)
                .push_bind(&key.rtype)
                .push_bind(&key.set_id)
                .push_bind(*account)
                .push_bind(host)
                .push_bind(Json(data));
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM dns_foreign_sets WHERE zone = $1")
        .bind(zone)
        .execute(&mut *tx)
        .await?;
    let foreign: Vec<&RecordSet> = listing
        .sets
        .iter()
        .filter(|s| !claimed.contains(&s.key))
        .collect();
    for chunk in foreign.chunks(5000) {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO dns_foreign_sets (zone, name, type, set_id, data) ");
        q.push_values(chunk, |mut row, s| {
            row.push_bind(zone)
                .push_bind(&s.key.name)
                .push_bind(&s.key.rtype)
                .push_bind(&s.key.set_id)
                .push_bind(Json(&s.data));
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *tx).await?;
    }
    // What the zone holds of ours, now: the claimed sets.
    let ours: BTreeMap<&RecordKey, &RecordData> = listed
        .iter()
        .filter(|(k, _)| claimed.contains(*k))
        .collect();
    let (settled_applied, settled_failed) = settle_interrupted(&mut tx, zone, &ours).await?;
    // Everything is planned again, quarantines included: a foreign set may have gone.
    sqlx::query(
        "UPDATE dns_record_sets SET quarantine = NULL WHERE zone = $1 AND quarantine IS NOT NULL",
    )
    .bind(zone)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO dns_dirty_hosts (account_id, host) \
         SELECT account_id, host FROM dns_record_sets WHERE zone = $1 \
         UNION SELECT account_id, host FROM dns_endpoints \
         ON CONFLICT DO NOTHING",
    )
    .bind(zone)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Resynced {
        listed: listing.sets.len(),
        owned: claimed.len(),
        requests: listing.requests,
        settled_applied,
        settled_failed,
    })
}

/// Closes change rows whose request was in flight when a worker stopped: applied if the zone
/// now holds what they sent, failed otherwise (what is missing is planned and sent again).
/// How many of each.
async fn settle_interrupted(
    conn: &mut sqlx::PgConnection,
    zone: &str,
    ours: &BTreeMap<&RecordKey, &RecordData>,
) -> sqlx::Result<(usize, usize)> {
    let rows: Vec<(i64, Json<Vec<ActionView>>)> = sqlx::query_as(
        "SELECT id, actions FROM dns_changes WHERE zone = $1 AND status = 'pending' AND submitted_at IS NOT NULL",
    )
    .bind(zone)
    .fetch_all(&mut *conn)
    .await?;
    let (mut held, mut lost) = (Vec::new(), Vec::new());
    for (id, actions) in rows {
        let all_held = actions.0.iter().all(|view| {
            let now = ours.get(&view.change().set.key);
            match view.action {
                Action::Delete => now.is_none(),
                Action::Create | Action::Upsert => now == Some(&&view.data),
            }
        });
        if all_held {
            held.push(id)
        } else {
            lost.push(id)
        }
    }
    changes::close(conn, &held, "applied", None, Some("the answer was lost (restart or timeout); re-reading the zone showed the change applied")).await?;
    changes::close(conn, &lost, "failed", None, Some("the answer was lost (restart or timeout) and the zone does not hold the change; what is missing is sent again")).await?;
    Ok((held.len(), lost.len()))
}
