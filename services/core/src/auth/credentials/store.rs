//! The SQL behind credential checks: API tokens, browser sessions, grants of access tokens,
//! and the profile (memberships) of a person. Verification itself (hash comparison, roles,
//! cache lifetimes) stays in `credentials.rs`.

use sqlx::PgConnection;
use uuid::Uuid;

/// A live API token found by its lookup prefix, with what its check needs.
pub struct ApiTokenRow {
    /// The token's id.
    pub id: Uuid,
    /// The account it belongs to.
    pub account_id: Uuid,
    /// That account's name.
    pub account: String,
    /// The token's name.
    pub name: String,
    /// Its role, as stored.
    pub role: String,
    /// The hash of its whole secret, compared in constant time.
    pub secret_hash: Vec<u8>,
    /// Whether `last_used_at` is worth refreshing (unset or over a minute old).
    pub stale: bool,
    /// Seconds until it expires.
    pub left: f64,
}

/// A live browser session found by its secret's hash.
pub struct SessionRow {
    /// The session's id.
    pub id: Uuid,
    /// The person it belongs to.
    pub person_id: Uuid,
    /// Whether `last_seen_at` is worth refreshing (over a minute old).
    pub stale: bool,
    /// Seconds until it ends at the latest.
    pub left: f64,
}

/// Whether the grant `grant` of `person` is neither revoked nor expired.
pub async fn grant_is_live(
    conn: &mut PgConnection,
    grant: Uuid,
    person: Uuid,
) -> Result<bool, sqlx::Error> {
    // `SELECT 1` has no column name of its own; the alias names it for the macro only.
    let live = sqlx::query_scalar!(
        r#"SELECT 1 AS "live!" FROM oauth_grants WHERE id = $1 AND person_id = $2
           AND revoked_at IS NULL AND expires_at > now()"#,
        grant,
        person,
    )
    .fetch_optional(conn)
    .await?;
    Ok(live.is_some())
}

/// The unrevoked, unexpired API token whose lookup prefix is `lookup`, if any.
pub async fn api_token(
    conn: &mut PgConnection,
    lookup: &str,
) -> Result<Option<ApiTokenRow>, sqlx::Error> {
    // `stale` and `left` are expressions over NOT NULL (or tested) columns: never NULL.
    sqlx::query_as!(
        ApiTokenRow,
        r#"SELECT t.id, t.account_id, a.name AS account, t.name, t.role, t.secret_hash,
                  t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS "stale!",
                  extract(epoch FROM t.expires_at - now())::float8 AS "left!"
           FROM api_tokens t JOIN accounts a ON a.id = t.account_id
           WHERE t.prefix = $1 AND t.revoked_at IS NULL AND t.expires_at > now()"#,
        lookup,
    )
    .fetch_optional(conn)
    .await
}

/// Records that API token `id` was just used.
pub async fn touch_api_token(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The live session whose secret hashes to `token_hash`, unless idle for over `idle_secs`.
pub async fn session(
    conn: &mut PgConnection,
    token_hash: &[u8],
    idle_secs: f64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    // `stale` and `left` are expressions over NOT NULL columns: never NULL.
    sqlx::query_as!(
        SessionRow,
        r#"SELECT id, person_id, last_seen_at < now() - interval '1 minute' AS "stale!",
                  extract(epoch FROM expires_at - now())::float8 AS "left!" FROM sessions
           WHERE token_hash = $1 AND expires_at > now()
             AND last_seen_at > now() - make_interval(secs => $2)"#,
        token_hash,
        idle_secs,
    )
    .fetch_optional(conn)
    .await
}

/// Records that session `id` was just seen.
pub async fn touch_session(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sessions SET last_seen_at = now() WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A person's email and display name; `None` when there is no such person.
pub async fn person(
    conn: &mut PgConnection,
    person: Uuid,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    let row = sqlx::query!("SELECT email, name FROM persons WHERE id = $1", person)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (r.email, r.name)))
}

/// A person's memberships as (account id, account name, role), by account name.
pub async fn memberships(
    conn: &mut PgConnection,
    person: Uuid,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT a.id, a.name, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.person_id = $1 ORDER BY a.name",
        person
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name, r.role)).collect())
}
