//! The SQL of registering a cluster: inserting it, locking its current registration,
//! updating it, and adding an identity CA. (Its events are written by
//! `clusters::store::record_event`, the token's use by `registration_tokens::store`.)

use sqlx::PgConnection;
use uuid::Uuid;

use crate::certificates::CaCertificate;

/// A cluster's registration, as stored.
pub struct Record<'a> {
    /// The API server's URL.
    pub server: &'a str,
    /// The DER of the CA that verifies the API server.
    pub server_ca: &'a [u8],
    /// The SHA-256 of the current identity CA's DER.
    pub identity_ca: &'a [u8],
    /// The labels, as JSON text (jsonb goes in as text: the workspace's sqlx has no `json`
    /// feature).
    pub labels: &'a str,
    /// The agent's version.
    pub agent_version: Option<&'a str>,
    /// The registration token that made the registration, if one did.
    pub registered_by_token: Option<Uuid>,
}

/// Inserts the cluster `name` of `account_id`; its new id, or `None` when the name is taken.
/// A concurrent insert of the same name waits for the first to commit, then finds it taken.
pub async fn insert_cluster(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
    record: &Record<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO clusters (id, account_id, name, server, server_ca, identity_ca, labels, \
                               agent_version, registered_by_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9) \
         ON CONFLICT (account_id, name) DO NOTHING RETURNING id",
        Uuid::new_v4(),
        account_id,
        name,
        record.server,
        record.server_ca,
        record.identity_ca,
        record.labels,
        record.agent_version,
        record.registered_by_token,
    )
    .fetch_optional(conn)
    .await
}

/// Trusts `ca` for agents of `cluster`; whether it is new (not trusted already).
pub async fn add_identity_ca(
    conn: &mut PgConnection,
    cluster: Uuid,
    ca: &CaCertificate,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO cluster_identity_cas (cluster_id, sha256, certificate, subject) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        cluster,
        &ca.sha256[..],
        &ca.der,
        &ca.subject_der,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(added == 1)
}

/// A registered cluster's row, as [`lock_current`] reads it.
pub struct Current {
    /// Its id.
    pub id: Uuid,
    /// The API server's URL.
    pub server: String,
    /// The DER of the CA that verifies the API server.
    pub server_ca: Vec<u8>,
    /// The SHA-256 of the current identity CA's DER.
    pub identity_ca: Vec<u8>,
    /// The labels' JSON (jsonb read as text).
    pub labels: String,
    /// The agent's version, as last reported.
    pub agent_version: Option<String>,
    /// The registration token that last registered it.
    pub registered_by_token: Option<Uuid>,
}

/// The registration of the cluster `name` of `account_id`, its row locked until the
/// transaction ends.
pub async fn lock_current(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
) -> Result<Option<Current>, sqlx::Error> {
    sqlx::query_as!(
        Current,
        "SELECT id, server, server_ca, identity_ca, labels::text AS \"labels!\", agent_version, \
                registered_by_token \
         FROM clusters WHERE account_id = $1 AND name = $2 FOR UPDATE",
        account_id,
        name,
    )
    .fetch_optional(conn)
    .await
}

/// Replaces the registration of the cluster `id` with `record`.
pub async fn update_cluster(
    conn: &mut PgConnection,
    id: Uuid,
    record: &Record<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE clusters SET server = $2, server_ca = $3, identity_ca = $4, labels = $5::text::jsonb, \
                agent_version = $6, registered_by_token = $7, updated_at = now() WHERE id = $1",
        id,
        record.server,
        record.server_ca,
        record.identity_ca,
        record.labels,
        record.agent_version,
        record.registered_by_token,
    )
    .execute(conn)
    .await?;
    Ok(())
}
