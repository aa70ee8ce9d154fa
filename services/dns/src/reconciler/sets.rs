//! The record sets of a zone as Postgres keeps them, and the changes that take the provider
//! from what it holds (`applied`) to the plan (`desired`). Holds the SQL of
//! `dns_record_sets` and `dns_foreign_sets` that the other steps share, and the account's
//! listing of its sets.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::jsonb_text;

use crate::records::{Action, Change, RecordData, RecordKey, RecordSet};

/// One stored record set of a host.
#[derive(Debug, Clone)]
pub struct StoredSet {
    /// Qualified name.
    pub name: String,
    /// Record type (the column `type`).
    pub rtype: String,
    /// Set identifier, or empty.
    pub set_id: String,
    /// Owner.
    pub account_id: Uuid,
    /// The host the set belongs to.
    pub host: String,
    /// What the plan wants.
    pub desired: Option<Json<RecordData>>,
    /// What the provider holds of ours.
    pub applied: Option<Json<RecordData>>,
    /// Why the host is quarantined.
    pub quarantine: Option<String>,
}

impl StoredSet {
    /// The set's key.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            name: self.name.clone(),
            rtype: self.rtype.clone(),
            set_id: self.set_id.clone(),
        }
    }

    /// Whether the provider holds what the plan wants.
    pub fn settled(&self) -> bool {
        self.desired.as_ref().map(|j| &j.0) == self.applied.as_ref().map(|j| &j.0)
    }
}

/// A host: its account and name.
pub type HostId = (Uuid, String);

/// The stored sets of `hosts` in `zone`, grouped by host.
pub async fn load(
    conn: &mut PgConnection,
    zone: &str,
    hosts: &[HostId],
) -> sqlx::Result<BTreeMap<HostId, Vec<StoredSet>>> {
    let (accounts, names): (Vec<Uuid>, Vec<String>) = hosts.iter().cloned().unzip();
    let rows = sqlx::query_as!(
        StoredSet,
        r#"SELECT s.name, s.type AS rtype, s.set_id, s.account_id, s.host,
                  s.desired AS "desired: Json<RecordData>", s.applied AS "applied: Json<RecordData>",
                  s.quarantine
           FROM dns_record_sets s JOIN unnest($2::uuid[], $3::text[]) AS h(account_id, host)
             ON s.account_id = h.account_id AND s.host = h.host
           WHERE s.zone = $1 ORDER BY s.name, s.type, s.set_id"#,
        zone,
        &accounts,
        &names,
    )
    .fetch_all(conn)
    .await?;
    let mut by_host: BTreeMap<HostId, Vec<StoredSet>> = BTreeMap::new();
    for row in rows {
        by_host
            .entry((row.account_id, row.host.clone()))
            .or_default()
            .push(row);
    }
    Ok(by_host)
}

/// The changes that take a host's sets from applied to desired: deletes first (a name may
/// change type), then writes of sets Flotilla holds, then creations.
pub fn diff(sets: &[StoredSet]) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    for s in sets {
        let change = match (&s.desired, &s.applied) {
            (Some(d), None) => Some((Action::Create, d.0.clone())),
            (Some(d), Some(a)) if d.0 != a.0 => Some((Action::Upsert, d.0.clone())),
            (None, Some(a)) => Some((Action::Delete, a.0.clone())),
            _ => None,
        };
        if let Some((action, data)) = change {
            changes.push(Change {
                action,
                set: RecordSet { key: s.key(), data },
            });
        }
    }
    let rank = |a: Action| match a {
        Action::Delete => 0,
        Action::Upsert => 1,
        Action::Create => 2,
    };
    changes.sort_by_key(|c| rank(c.action));
    changes
}

/// What a host's sets hold at the provider (applied), for checking a batch against.
pub fn applied_sets(sets: &[StoredSet]) -> Vec<RecordSet> {
    sets.iter()
        .filter_map(|s| {
            s.applied.as_ref().map(|a| RecordSet {
                key: s.key(),
                data: a.0.clone(),
            })
        })
        .collect()
}

/// Records that the provider now holds what `changes` wrote.
pub async fn mark_applied(
    conn: &mut PgConnection,
    zone: &str,
    changes: &[Change],
) -> sqlx::Result<()> {
    let applied: Vec<(RecordKey, Option<RecordData>)> = changes
        .iter()
        .map(|c| {
            (
                c.set.key.clone(),
                (c.action != Action::Delete).then(|| c.set.data.clone()),
            )
        })
        .collect();
    write_applied(conn, zone, &applied).await
}

/// Records what the provider holds at each key (None: nothing of ours), then forgets sets
/// that are neither desired nor held.
pub async fn write_applied(
    conn: &mut PgConnection,
    zone: &str,
    applied: &[(RecordKey, Option<RecordData>)],
) -> sqlx::Result<()> {
    if applied.is_empty() {
        return forget_empty(conn, zone).await;
    }
    let mut names = Vec::with_capacity(applied.len());
    let mut types = Vec::with_capacity(applied.len());
    let mut set_ids = Vec::with_capacity(applied.len());
    let mut data = Vec::with_capacity(applied.len());
    for (key, held) in applied {
        names.push(key.name.as_str());
        types.push(key.rtype.as_str());
        set_ids.push(key.set_id.as_str());
        data.push(held.as_ref().map(jsonb_text).transpose()?);
    }
    sqlx::query!(
        "UPDATE dns_record_sets s SET applied = c.data, applied_at = now() \
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]::jsonb[]) AS c(name, type, set_id, data) \
         WHERE s.zone = $1 AND s.name = c.name AND s.type = c.type AND s.set_id = c.set_id",
        zone,
        &names as &[&str],
        &types as &[&str],
        &set_ids as &[&str],
        &data as &[Option<String>],
    )
    .execute(&mut *conn)
    .await?;
    forget_empty(conn, zone).await
}

/// Forgets the sets that are neither desired nor held.
pub async fn forget_empty(conn: &mut PgConnection, zone: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM dns_record_sets WHERE zone = $1 AND desired IS NULL AND applied IS NULL",
        zone,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Record sets in the zone that are not Flotilla's, at `names`.
pub async fn foreign_at(
    conn: &mut PgConnection,
    zone: &str,
    names: &[String],
) -> sqlx::Result<Vec<RecordSet>> {
    let rows = sqlx::query!(
        r#"SELECT name, type AS rtype, set_id, data AS "data: Json<RecordData>"
           FROM dns_foreign_sets WHERE zone = $1 AND name = ANY($2)"#,
        zone,
        names,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RecordSet {
            key: RecordKey {
                name: r.name,
                rtype: r.rtype,
                set_id: r.set_id,
            },
            data: r.data.0,
        })
        .collect())
}

/// The record sets of `account` in `zone`, by host and name; only `host`'s when given (as
/// written, in any case, with or without the final dot).
pub async fn of_account(
    conn: &mut PgConnection,
    zone: &str,
    account: Uuid,
    host: Option<&str>,
) -> sqlx::Result<Vec<StoredSet>> {
    sqlx::query_as!(
        StoredSet,
        r#"SELECT host, name, type AS rtype, set_id, account_id,
                  desired AS "desired: Json<RecordData>", applied AS "applied: Json<RecordData>",
                  quarantine
           FROM dns_record_sets
           WHERE zone = $1 AND account_id = $2 AND ($3::text IS NULL OR host = lower(trim(trailing '.' from $3)))
           ORDER BY host, name, type, set_id"#,
        zone,
        account,
        host,
    )
    .fetch_all(conn)
    .await
}
