//! The SQL of API tokens: inserting one, listing an account's, revoking one. Each function
//! runs on the connection (or transaction) its caller passes.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A token to insert.
pub struct NewTokenRow<'a> {
    /// Its id.
    pub id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// What it is for.
    pub name: &'a str,
    /// Its role, as stored.
    pub role: &'a str,
    /// The lookup part of the token, after `flt_`.
    pub prefix: &'a str,
    /// SHA-256 of the whole token.
    pub secret_hash: &'a [u8],
    /// The person who created it.
    pub created_by: Option<Uuid>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A token as stored, without its hash.
pub struct TokenRow {
    /// Its id.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// Its role, as stored.
    pub role: String,
    /// The lookup part of the token, after `flt_`.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Inserts `token`; returns when it was created.
pub async fn insert(
    conn: &mut PgConnection,
    token: &NewTokenRow<'_>,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO api_tokens (id, account_id, name, role, prefix, secret_hash, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at",
        token.id,
        token.account_id,
        token.name,
        token.role,
        token.prefix,
        token.secret_hash,
        token.created_by,
        token.expires_at,
    )
    .fetch_one(conn)
    .await
}

/// The tokens of `account`, newest first.
pub async fn list(conn: &mut PgConnection, account: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "SELECT id, name, role, prefix, created_at, expires_at, last_used_at, revoked_at \
         FROM api_tokens WHERE account_id = $1 ORDER BY created_at DESC",
        account,
    )
    .fetch_all(conn)
    .await
}

/// Revokes the token `id` of `account` (keeping the first revocation's time); returns its
/// name, or `None` when the account has no such token.
pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    account: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) \
         WHERE id = $1 AND account_id = $2 RETURNING name",
        id,
        account,
    )
    .fetch_optional(conn)
    .await
}
