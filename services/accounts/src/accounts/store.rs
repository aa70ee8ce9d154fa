//! The SQL of accounts: creating one with its first owner, reading its settings, changing
//! them. Each function runs on the connection (or transaction) its caller passes.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An account's row as its members read it.
pub struct AccountRow {
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether its SPIFFE bundles are served publicly.
    pub publish_spiffe_bundles: bool,
    /// TTL of its DNS records.
    pub dns_ttl: i32,
}

/// What a settings change changed.
pub struct SettingsChange {
    /// Whether `publish_spiffe_bundles` took a new value.
    pub publish_changed: bool,
    /// The new TTL, when it changed.
    pub dns_ttl: Option<i32>,
}

/// Inserts the account; returns when it was created. A taken name fails on the
/// `accounts_name_key` constraint, which the caller turns into a conflict.
pub async fn insert_account(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    created_by: Uuid,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO accounts (id, name, created_by) VALUES ($1, $2, $3) RETURNING created_at",
        id,
        name,
        created_by,
    )
    .fetch_one(conn)
    .await
}

/// Makes `person` an owner of the new account `account`.
pub async fn insert_owner(
    conn: &mut PgConnection,
    account: Uuid,
    person: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO memberships (account_id, person_id, role) VALUES ($1, $2, 'owner')",
        account,
        person,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The account `id`, if it exists.
pub async fn find_account(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as!(
        AccountRow,
        "SELECT created_at, publish_spiffe_bundles, dns_ttl FROM accounts WHERE id = $1",
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Sets the settings given (`None` keeps a setting), in one statement that returns what it
/// changed, or `None` when nothing differs. A new TTL re-plans the account's DNS through a
/// trigger, in the caller's transaction.
pub async fn update_settings(
    conn: &mut PgConnection,
    id: Uuid,
    publish_spiffe_bundles: Option<bool>,
    dns_ttl: Option<i32>,
) -> Result<Option<SettingsChange>, sqlx::Error> {
    // Both are expressions over NOT NULL columns: the comparison is never null, the NULLIF
    // is null exactly when the TTL did not change.
    sqlx::query_as!(
        SettingsChange,
        r#"WITH old AS (SELECT publish_spiffe_bundles, dns_ttl FROM accounts WHERE id = $1 FOR UPDATE)
         UPDATE accounts a SET publish_spiffe_bundles = COALESCE($2, a.publish_spiffe_bundles),
             dns_ttl = COALESCE($3, a.dns_ttl) FROM old
         WHERE a.id = $1 AND (a.publish_spiffe_bundles, a.dns_ttl)
             IS DISTINCT FROM (COALESCE($2, a.publish_spiffe_bundles), COALESCE($3, a.dns_ttl))
         RETURNING a.publish_spiffe_bundles <> old.publish_spiffe_bundles AS "publish_changed!",
                   NULLIF(a.dns_ttl, old.dns_ttl) AS "dns_ttl?""#,
        id,
        publish_spiffe_bundles,
        dns_ttl,
    )
    .fetch_optional(conn)
    .await
}
