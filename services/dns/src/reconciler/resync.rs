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
use crate::hosts::DERIVED_LABEL;
use crate::plan::marker_text;
use crate::providers::{Failure, Provider};
use crate::records::{txt, Action, RecordData, RecordKey, RecordSet};

/// What a resync found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resynced {
    /// Record sets in the zone.
    pub listed: usize,
    /// Of those, Flotilla's.
    pub owned: usize,
    /// Requests the listing took.
    pub requests: u32,
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
    let accounts: BTreeMap<Uuid, String> =
        sqlx::query_as::<_, (Uuid, String)>("SELECT id, name FROM accounts")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let marked = |account: Uuid, host: &str| {
        let marker = RecordKey {
            name: format!("{DERIVED_LABEL}.{host}."),
            rtype: "TXT".into(),
            set_id: String::new(),
        };
        accounts.get(&account).is_some_and(|name| {
            listed
                .get(&marker)
                .is_some_and(|d| d.values.contains(&txt(&marker_text(name))))
        })
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
    // Sets under a host carrying our marker that Postgres has forgotten (e.g. restored from an
    // older backup): ours, to be planned again.
    let by_name: BTreeMap<&str, Uuid> = accounts
        .iter()
        .map(|(id, name)| (name.as_str(), *id))
        .collect();
    let known_hosts: BTreeSet<&str> = rows.iter().map(|r| r.host.as_str()).collect();
    let mut adopted: Vec<(RecordKey, Uuid, String, RecordData)> = Vec::new();
    for (key, data) in &listed {
        let Some(host) = key
            .name
            .strip_prefix(&format!("{DERIVED_LABEL}."))
            .and_then(|h| h.strip_suffix('.'))
        else {
            continue;
        };
        if key.rtype != "TXT" || known_hosts.contains(host) {
            continue;
        }
        let Some((_, &account)) = by_name
            .iter()
            .find(|(name, _)| data.values.contains(&txt(&marker_text(name))))
        else {
            continue;
        };
        let derived = format!(".{DERIVED_LABEL}.{host}.");
        for (k, d) in &listed {
            if k.name == format!("{host}.") || k.name == key.name || k.name.ends_with(&derived) {
                claimed.insert(k.clone());
                adopted.push((k.clone(), account, host.to_owned(), d.clone()));
            }
        }
    }
    sets::write_applied(&mut tx, zone, &applied).await?;
    if !adopted.is_empty() {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO dns_record_sets (zone, name, type, set_id, account_id, host, applied) ",
        );
        q.push_values(&adopted, |mut row, (key, account, host, data)| {
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
    settle_interrupted(&mut tx, zone).await?;
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
    })
}

/// Closes change rows whose request was in flight when a worker stopped: applied if the zone
/// now holds what they sent, failed otherwise (what is missing is planned and sent again).
async fn settle_interrupted(conn: &mut sqlx::PgConnection, zone: &str) -> sqlx::Result<()> {
    let rows: Vec<(i64, Json<Vec<ActionView>>)> = sqlx::query_as(
        "SELECT id, actions FROM dns_changes WHERE zone = $1 AND status = 'pending' AND submitted_at IS NOT NULL",
    )
    .bind(zone)
    .fetch_all(&mut *conn)
    .await?;
    let (mut held, mut lost) = (Vec::new(), Vec::new());
    for (id, actions) in rows {
        let mut all_held = true;
        for view in &actions.0 {
            let change = view.change();
            let now: Option<Json<RecordData>> = sqlx::query_scalar(
                "SELECT applied FROM dns_record_sets WHERE zone = $1 AND name = $2 AND type = $3 AND set_id = $4",
            )
            .bind(zone)
            .bind(&change.set.key.name)
            .bind(&change.set.key.rtype)
            .bind(&change.set.key.set_id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
            let ok = match change.action {
                Action::Delete => now.is_none(),
                Action::Create | Action::Upsert => now.is_some_and(|n| n.0 == change.set.data),
            };
            all_held &= ok;
        }
        if all_held {
            held.push(id)
        } else {
            lost.push(id)
        }
    }
    changes::close(conn, &held, "applied", None, Some("the answer was lost (restart or timeout); re-reading the zone showed the change applied")).await?;
    changes::close(conn, &lost, "failed", None, Some("the answer was lost (restart or timeout) and the zone does not hold the change; what is missing is sent again")).await
}
