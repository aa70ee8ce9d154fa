//! The SQL of registered clusters as they are read and removed: their rows, their identity
//! CAs, deregistration, the removal of an identity CA, and their events. (Registering and
//! updating a cluster is in `registration::store`.)

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ClusterEvent;

/// A cluster's row, as [`rows`] reads it.
pub struct ClusterRow {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its API server's URL.
    pub server: String,
    /// The DER of the CA that verifies the API server.
    pub server_ca: Vec<u8>,
    /// The SHA-256 of the current identity CA's DER.
    pub identity_ca: Vec<u8>,
    /// The labels' JSON (jsonb read as text: the workspace's sqlx has no `json` feature).
    pub labels: String,
    /// The agent's version, as last reported.
    pub agent_version: Option<String>,
    /// The stored status.
    pub status: String,
    /// When the stored status last changed.
    pub status_changed_at: DateTime<Utc>,
    /// When the last heartbeat came.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Seconds since the last heartbeat, by the database's clock.
    pub silence: Option<f64>,
    /// The last heartbeat's figures, as JSON text.
    pub figures: Option<String>,
    /// When it was first registered.
    pub registered_at: DateTime<Utc>,
    /// When its registration last changed.
    pub updated_at: DateTime<Utc>,
}

/// The rows of the clusters of `account_id` by name, or of the one named `name`.
pub async fn rows(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: Option<&str>,
) -> Result<Vec<ClusterRow>, sqlx::Error> {
    // Two statements rather than `name = $2 OR $2 IS NULL`, which would hide the
    // (account_id, name) index from the planner and scan every cluster of the account.
    match name {
        Some(name) => {
            sqlx::query_as!(
                ClusterRow,
                "SELECT id, name, server, server_ca, identity_ca, labels::text AS \"labels!\", \
                        agent_version, status, status_changed_at, last_heartbeat_at, \
                        extract(epoch FROM now() - last_heartbeat_at)::float8 AS silence, \
                        figures::text AS figures, registered_at, updated_at \
                 FROM clusters WHERE account_id = $1 AND name = $2",
                account_id,
                name,
            )
            .fetch_all(conn)
            .await
        }
        None => {
            sqlx::query_as!(
                ClusterRow,
                "SELECT id, name, server, server_ca, identity_ca, labels::text AS \"labels!\", \
                        agent_version, status, status_changed_at, last_heartbeat_at, \
                        extract(epoch FROM now() - last_heartbeat_at)::float8 AS silence, \
                        figures::text AS figures, registered_at, updated_at \
                 FROM clusters WHERE account_id = $1 ORDER BY name",
                account_id,
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// An identity CA a cluster trusts, as stored.
pub struct StoredCa {
    /// The cluster.
    pub cluster_id: Uuid,
    /// The CA's DER.
    pub certificate: Vec<u8>,
    /// When it was first registered.
    pub added_at: DateTime<Utc>,
}

/// The identity CAs of the clusters `ids`, newest first.
pub async fn identity_cas(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<StoredCa>, sqlx::Error> {
    sqlx::query_as!(
        StoredCa,
        "SELECT cluster_id, certificate, added_at FROM cluster_identity_cas \
         WHERE cluster_id = ANY($1) ORDER BY added_at DESC",
        ids,
    )
    .fetch_all(conn)
    .await
}

/// Deletes the cluster `name` of `account_id` (its CAs and events go with it); its id and
/// server, or `None` when there is no such cluster.
pub async fn delete(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let gone = sqlx::query!(
        "DELETE FROM clusters WHERE account_id = $1 AND name = $2 RETURNING id, server",
        account_id,
        name,
    )
    .fetch_optional(conn)
    .await?;
    Ok(gone.map(|row| (row.id, row.server)))
}

/// The id of the cluster `name` of `account_id` and its current identity CA's SHA-256,
/// locking its row until the transaction ends.
pub async fn lock_identity_ca(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
) -> Result<Option<(Uuid, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, identity_ca FROM clusters WHERE account_id = $1 AND name = $2 FOR UPDATE",
        account_id,
        name,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.id, row.identity_ca)))
}

/// Stops trusting the identity CA of `cluster` whose SHA-256 is `sha256`; whether it was
/// there.
pub async fn delete_identity_ca(
    conn: &mut PgConnection,
    cluster: Uuid,
    sha256: &[u8],
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM cluster_identity_cas WHERE cluster_id = $1 AND sha256 = $2",
        cluster,
        sha256,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(removed > 0)
}

/// Records an event of `cluster` in the change's transaction.
pub async fn record_event(
    conn: &mut PgConnection,
    cluster: Uuid,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cluster_events (cluster_id, kind, detail) VALUES ($1, $2, $3)",
        cluster,
        kind,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The id of the cluster `name` of `account_id`.
pub async fn id_of(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM clusters WHERE account_id = $1 AND name = $2",
        account_id,
        name,
    )
    .fetch_optional(conn)
    .await
}

/// Up to `limit` events of `cluster`, newest first, older than `before` when given.
pub async fn events(
    conn: &mut PgConnection,
    cluster: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ClusterEvent>, sqlx::Error> {
    sqlx::query_as!(
        ClusterEvent,
        "SELECT id, at, kind, detail FROM cluster_events \
         WHERE cluster_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        cluster,
        before,
        limit,
    )
    .fetch_all(conn)
    .await
}
