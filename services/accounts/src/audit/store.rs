//! The SQL that reads the audit log (the entries are written through
//! `flotilla_core::audit::Entry`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An audit entry as stored.
pub struct EventRow {
    /// Its id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What, as `noun.verb`.
    pub action: String,
    /// Who, by kind.
    pub actor_kind: String,
    /// The person's, token's or cluster's id.
    pub actor_id: Option<Uuid>,
    /// Who, as shown.
    pub actor: String,
    /// To what.
    pub target: String,
    /// More about it: a JSON object, as text (the workspace's sqlx decodes no `jsonb`).
    pub details: String,
    /// The request's id.
    pub request_id: Option<String>,
    /// The address the request came from, without a prefix length.
    pub source: Option<String>,
}

/// At most `limit` entries of `account`, newest first, older than `before` when given.
pub async fn page(
    conn: &mut PgConnection,
    account: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    // `details::text` of a NOT NULL column is never null.
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, at, action, actor_kind, actor_id, actor, target, details::text AS "details!",
                request_id, host(source) AS source
         FROM audit_events WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"#,
        account,
        before,
        limit,
    )
    .fetch_all(conn)
    .await
}
