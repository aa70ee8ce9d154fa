//! The SQL of registration tokens: creating, listing and revoking them, finding a presented
//! one, and taking one of its uses.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A registration token to store.
pub struct NewToken<'a> {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// The lookup part of the token (after `flreg_`), unique.
    pub lookup: &'a str,
    /// The SHA-256 of the whole token.
    pub secret_hash: &'a [u8],
    /// What it is for.
    pub description: &'a str,
    /// The labels it applies, as JSON text.
    pub labels: &'a str,
    /// Registrations it may make.
    pub max_uses: i32,
    /// The person who created it (none for an API token).
    pub created_by: Option<Uuid>,
    /// Seconds until it stops working.
    pub ttl_secs: f64,
}

/// Stores `token`; when it was created and when it expires, by the database's clock.
pub async fn insert(
    conn: &mut PgConnection,
    token: &NewToken<'_>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), sqlx::Error> {
    // jsonb goes in as text (the workspace's sqlx has no `json` feature).
    let created = sqlx::query!(
        "INSERT INTO registration_tokens \
         (id, account_id, prefix, secret_hash, description, labels, max_uses, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, now() + make_interval(secs => $9)) \
         RETURNING created_at, expires_at",
        token.id,
        token.account_id,
        token.lookup,
        token.secret_hash,
        token.description,
        token.labels,
        token.max_uses,
        token.created_by,
        token.ttl_secs,
    )
    .fetch_one(conn)
    .await?;
    Ok((created.created_at, created.expires_at))
}

/// A registration token's row, as [`list`] reads it.
pub struct TokenRow {
    /// Its id.
    pub id: Uuid,
    /// What it is for.
    pub description: String,
    /// The lookup part of the token (after `flreg_`).
    pub prefix: String,
    /// The labels' JSON (jsonb read as text: the workspace's sqlx has no `json` feature).
    pub labels: String,
    /// Registrations it may make.
    pub max_uses: i32,
    /// Registrations it made.
    pub uses: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it last registered a cluster.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The newest 1000 registration tokens of `account_id`, newest first.
pub async fn list(conn: &mut PgConnection, account_id: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        "SELECT id, description, prefix, labels::text AS \"labels!\", max_uses, uses, \
                created_at, expires_at, last_used_at, revoked_at \
         FROM registration_tokens WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1000",
        account_id,
    )
    .fetch_all(conn)
    .await
}

/// Revokes the token `id` of `account_id` (a second revocation keeps the first time); its
/// description, or `None` when the account has no such token.
pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    account_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE registration_tokens SET revoked_at = coalesce(revoked_at, now()) \
         WHERE id = $1 AND account_id = $2 RETURNING description",
        id,
        account_id,
    )
    .fetch_optional(conn)
    .await
}

/// A live registration token, as [`find_live`] reads it.
pub struct LiveToken {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// What it is for.
    pub description: String,
    /// The labels' JSON (jsonb read as text).
    pub labels: String,
    /// Whether it may make another registration.
    pub uses_left: bool,
    /// The SHA-256 of the whole token, to compare with the presented one's.
    pub secret_hash: Vec<u8>,
}

/// The unrevoked, unexpired token of the account named `account` whose lookup part is
/// `lookup`.
pub async fn find_live(
    conn: &mut PgConnection,
    lookup: &str,
    account: &str,
) -> Result<Option<LiveToken>, sqlx::Error> {
    // `uses_left` is an expression of two NOT NULL columns.
    sqlx::query_as!(
        LiveToken,
        "SELECT t.id, t.account_id, t.description, t.labels::text AS \"labels!\", \
                t.uses < t.max_uses AS \"uses_left!\", t.secret_hash \
         FROM registration_tokens t JOIN accounts a ON a.id = t.account_id \
         WHERE t.prefix = $1 AND a.name = $2 AND t.revoked_at IS NULL AND t.expires_at > now()",
        lookup,
        account,
    )
    .fetch_optional(conn)
    .await
}

/// Takes one use of the token `id`; whether it had one left (and was neither revoked nor
/// expired).
pub async fn take_use(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query!(
        "UPDATE registration_tokens SET uses = uses + 1, last_used_at = now() \
         WHERE id = $1 AND uses < max_uses AND revoked_at IS NULL AND expires_at > now()",
        id,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(taken > 0)
}
