//! Change rows: the queue and the history of what was sent to the provider for each host.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use utoipa::ToSchema;

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
    let actions: Vec<Json<&Vec<ActionView>>> = rows.iter().map(|(_, a)| Json(a)).collect();
    sqlx::query(
        "UPDATE dns_changes c SET submitted_at = clock_timestamp(), attempts = attempts + 1, \
         actions = u.actions FROM unnest($1::bigint[], $2::jsonb[]) AS u(id, actions) WHERE c.id = u.id",
    )
    .bind(&ids)
    .bind(&actions)
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
    sqlx::query("UPDATE dns_changes SET submitted_at = NULL, error = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}

/// Notes why rows' last attempt did not (yet) succeed, leaving them as they are.
pub async fn note_error(conn: &mut PgConnection, ids: &[i64], error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE dns_changes SET error = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(error)
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
    sqlx::query(
        "UPDATE dns_changes SET status = $2, provider_change_id = $3, error = $4, \
         completed_at = clock_timestamp() WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(status)
    .bind(change_id)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}
