//! Change rows: the queue and the history of what was sent to the provider for each host.
//! Holds the SQL of `dns_changes` that the other steps share, and the account's history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::jsonb_text;

use crate::records::{Action, Change, RecordData, RecordKey, RecordSet};

/// One change to one record set, as queued or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    /// CREATE, UPSERT or DELETE (a DELETE repeats the set's exact current data).
    pub action: Action,
    /// The record set's name, qualified.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// Its set identifier (region or cluster), for routed sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    /// What the set holds (for a DELETE, what it held).
    #[serde(flatten)]
    pub data: RecordData,
}

impl ActionView {
    /// The view of `change`.
    pub fn of(change: &Change) -> ActionView {
        let key = &change.set.key;
        ActionView {
            action: change.action,
            name: key.name.clone(),
            rtype: key.rtype.clone(),
            set_identifier: (!key.set_id.is_empty()).then(|| key.set_id.clone()),
            data: change.set.data.clone(),
        }
    }

    /// The change this view describes.
    pub fn change(&self) -> Change {
        let key = RecordKey {
            name: self.name.clone(),
            rtype: self.rtype.clone(),
            set_id: self.set_identifier.clone().unwrap_or_default(),
        };
        Change {
            action: self.action,
            set: RecordSet {
                key,
                data: self.data.clone(),
            },
        }
    }
}

/// `changes` as stored in a change row.
pub fn actions_json(changes: &[Change]) -> Vec<ActionView> {
    changes.iter().map(ActionView::of).collect()
}

/// Marks change rows submitted with what is being sent.
pub async fn mark_submitted(
    conn: &mut PgConnection,
    rows: &[(i64, Vec<ActionView>)],
) -> sqlx::Result<()> {
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let actions: Vec<String> = rows
        .iter()
        .map(|(_, a)| jsonb_text(a))
        .collect::<sqlx::Result<_>>()?;
    sqlx::query!(
        "UPDATE dns_changes c SET submitted_at = clock_timestamp(), attempts = attempts + 1, \
         actions = u.actions FROM unnest($1::bigint[], $2::text[]::jsonb[]) AS u(id, actions) WHERE c.id = u.id",
        &ids,
        &actions,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts submitted rows back in the queue, with the reason they were not applied (if any).
pub async fn requeue(
    conn: &mut PgConnection,
    ids: &[i64],
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dns_changes SET submitted_at = NULL, error = $2 WHERE id = ANY($1)",
        ids,
        error,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes why rows' last attempt did not (yet) succeed, leaving them as they are.
pub async fn note_error(conn: &mut PgConnection, ids: &[i64], error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dns_changes SET error = $2 WHERE id = ANY($1)",
        ids,
        error,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes rows with a final status.
pub async fn close(
    conn: &mut PgConnection,
    ids: &[i64],
    status: &str,
    change_id: Option<&str>,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE dns_changes SET status = $2, provider_change_id = $3, error = $4, \
         completed_at = clock_timestamp() WHERE id = ANY($1)",
        ids,
        status,
        change_id,
        error,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A change row as the account's history shows it.
#[derive(Debug)]
pub struct StoredChange {
    /// The row's id.
    pub id: i64,
    /// The host.
    pub host: String,
    /// `pending`, `applied`, `failed` or `quarantined`.
    pub status: String,
    /// Whether it took an endpoint out.
    pub failover: bool,
    /// What it does to each record set.
    pub actions: Json<Vec<ActionView>>,
    /// The provider's id for the request that applied it.
    pub provider_change_id: Option<String>,
    /// Requests made for it.
    pub attempts: i32,
    /// The last error.
    pub error: Option<String>,
    /// When Flotilla learned what made the change.
    pub learned_at: DateTime<Utc>,
    /// When it was last sent.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// Filters of an account's history of changes.
#[derive(Debug, Clone, Copy)]
pub struct HistoryFilter<'a> {
    /// Only rows older than this id.
    pub before: Option<i64>,
    /// Only rows with this status.
    pub status: Option<&'a str>,
    /// Only this host's rows (as written, in any case, with or without the final dot).
    pub host: Option<&'a str>,
    /// At most this many rows.
    pub limit: i64,
}

/// `account`'s change rows, newest first.
pub async fn of_account(
    conn: &mut PgConnection,
    account: Uuid,
    filter: HistoryFilter<'_>,
) -> sqlx::Result<Vec<StoredChange>> {
    sqlx::query_as!(
        StoredChange,
        r#"SELECT id, host, status, failover, actions AS "actions: Json<Vec<ActionView>>",
                  provider_change_id, attempts, error, learned_at, submitted_at, completed_at
           FROM dns_changes WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2)
             AND ($3::text IS NULL OR status = $3)
             AND ($4::text IS NULL OR host = lower(trim(trailing '.' from $4)))
           ORDER BY id DESC LIMIT $5"#,
        account,
        filter.before,
        filter.status,
        filter.host,
        filter.limit,
    )
    .fetch_all(conn)
    .await
}
