//! Resync: reads the whole zone from the provider and makes Postgres agree with it. Flotilla's
//! sets are recognised by its rows and by the TXT marker at `_flotilla.<host>` (a set at a
//! host carrying our marker, or one holding exactly what we last wrote, is ours); everything
//! else is foreign and only ever read. Runs when a worker takes a zone (so a crash at any point
//! converges), after a request whose outcome is unknown, and periodically to catch drift.
//! Holds the SQL of that step: the zone's sets locked, sets adopted, foreign sets replaced,
//! interrupted changes settled, and every host planned again.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use super::changes::{self, ActionView};
use super::jsonb_text;
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
    let rows = sqlx::query_as!(
        StoredSet,
        r#"SELECT name, type AS rtype, set_id, account_id, host,
                  desired AS "desired: Json<RecordData>", applied AS "applied: Json<RecordData>",
                  quarantine
           FROM dns_record_sets WHERE zone = $1 FOR UPDATE"#,
        zone,
    )
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
    let accounts: Vec<(Uuid, String)> = sqlx::query!(
        "SELECT id, name FROM accounts WHERE id = ANY($1) OR name = ANY($2)",
        &ids,
        &names as &[&str],
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|a| (a.id, a.name))
    .collect();
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
    adopt(&mut tx, zone, &adopted).await?;
    let foreign: Vec<&RecordSet> = listing
        .sets
        .iter()
        .filter(|s| !claimed.contains(&s.key))
        .collect();
    replace_foreign(&mut tx, zone, &foreign).await?;
    // What the zone holds of ours, now: the claimed sets.
    let ours: BTreeMap<&RecordKey, &RecordData> = listed
        .iter()
        .filter(|(k, _)| claimed.contains(*k))
        .collect();
    let (settled_applied, settled_failed) = settle_interrupted(&mut tx, zone, &ours).await?;
    // Everything is planned again, quarantines included: a foreign set may have gone.
    sqlx::query!(
        "UPDATE dns_record_sets SET quarantine = NULL WHERE zone = $1 AND quarantine IS NOT NULL",
        zone,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO dns_dirty_hosts (account_id, host) \
         SELECT account_id, host FROM dns_record_sets WHERE zone = $1 \
         UNION SELECT account_id, host FROM dns_endpoints \
         ON CONFLICT DO NOTHING",
        zone,
    )
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
    let rows = sqlx::query!(
        r#"SELECT id, actions AS "actions: Json<Vec<ActionView>>" FROM dns_changes
           WHERE zone = $1 AND status = 'pending' AND submitted_at IS NOT NULL"#,
        zone,
    )
    .fetch_all(&mut *conn)
    .await?;
    let (mut held, mut lost) = (Vec::new(), Vec::new());
    for row in rows {
        let (id, actions) = (row.id, row.actions);
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

/// Stores sets of hosts carrying Flotilla's marker that Postgres had forgotten, as held by the
/// provider (and desired by nothing yet: the next plan says).
async fn adopt(
    conn: &mut sqlx::PgConnection,
    zone: &str,
    adopted: &[(RecordKey, Uuid, String, RecordData)],
) -> sqlx::Result<()> {
    if adopted.is_empty() {
        return Ok(());
    }
    let mut names = Vec::with_capacity(adopted.len());
    let mut types = Vec::with_capacity(adopted.len());
    let mut set_ids = Vec::with_capacity(adopted.len());
    let mut accounts = Vec::with_capacity(adopted.len());
    let mut hosts = Vec::with_capacity(adopted.len());
    let mut data = Vec::with_capacity(adopted.len());
    for (key, account, host, held) in adopted {
        names.push(key.name.as_str());
        types.push(key.rtype.as_str());
        set_ids.push(key.set_id.as_str());
        accounts.push(*account);
        hosts.push(host.as_str());
        data.push(jsonb_text(held)?);
    }
    sqlx::query!(
        "INSERT INTO dns_record_sets (zone, name, type, set_id, account_id, host, applied) \
         SELECT $1, a.name, a.type, a.set_id, a.account_id, a.host, a.applied \
         FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[]::jsonb[]) \
             AS a(name, type, set_id, account_id, host, applied) \
         ON CONFLICT DO NOTHING",
        zone,
        &names as &[&str],
        &types as &[&str],
        &set_ids as &[&str],
        &accounts,
        &hosts as &[&str],
        &data,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the zone's foreign sets exactly `foreign`.
async fn replace_foreign(
    conn: &mut sqlx::PgConnection,
    zone: &str,
    foreign: &[&RecordSet],
) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM dns_foreign_sets WHERE zone = $1", zone)
        .execute(&mut *conn)
        .await?;
    if foreign.is_empty() {
        return Ok(());
    }
    let mut names = Vec::with_capacity(foreign.len());
    let mut types = Vec::with_capacity(foreign.len());
    let mut set_ids = Vec::with_capacity(foreign.len());
    let mut data = Vec::with_capacity(foreign.len());
    for set in foreign {
        names.push(set.key.name.as_str());
        types.push(set.key.rtype.as_str());
        set_ids.push(set.key.set_id.as_str());
        data.push(jsonb_text(&set.data)?);
    }
    sqlx::query!(
        "INSERT INTO dns_foreign_sets (zone, name, type, set_id, data) \
         SELECT $1, f.name, f.type, f.set_id, f.data \
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]::jsonb[]) AS f(name, type, set_id, data) \
         ON CONFLICT DO NOTHING",
        zone,
        &names as &[&str],
        &types as &[&str],
        &set_ids as &[&str],
        &data,
    )
    .execute(conn)
    .await?;
    Ok(())
}
