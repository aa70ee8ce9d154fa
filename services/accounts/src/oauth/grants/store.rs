//! The SQL of grants (`oauth_grants`) and of the refresh tokens issued under them
//! (`refresh_tokens`). Tokens are looked up by their hash: the secret itself is never stored.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// A refresh token and its grant, as the refresh-token grant sees them (both rows locked).
pub struct PresentedRefreshToken {
    /// The grant the token belongs to.
    pub grant_id: Uuid,
    /// The person the grant was given by.
    pub person_id: Uuid,
    /// The client the grant was given to.
    pub client_id: String,
    /// The granted scopes.
    pub scope: String,
    /// The grant is neither revoked nor expired.
    pub live: bool,
    /// The token was already used (rotated).
    pub used: bool,
    /// The token was used within the reuse grace window; `None` when it was never used.
    pub within_grace: Option<bool>,
    /// The hash of the token that replaced this one, if any.
    pub replaced_by: Option<Vec<u8>>,
}

/// Records a new grant expiring after `lifetime`.
pub async fn insert_grant(
    conn: &mut PgConnection,
    grant: Uuid,
    person: Uuid,
    client_id: &str,
    scope: &str,
    lifetime: Duration,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO oauth_grants (id, person_id, client_id, scope, expires_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        grant,
        person,
        client_id,
        scope,
        lifetime.as_secs_f64(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks `grant` revoked for `reason`, unless it already is.
pub async fn revoke_grant(conn: &mut PgConnection, grant: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE oauth_grants SET revoked_at = now(), revoked_reason = $2 \
         WHERE id = $1 AND revoked_at IS NULL",
        grant,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a new, unused refresh token under `grant`.
pub async fn insert_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    grant: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO refresh_tokens (token_hash, grant_id) VALUES ($1, $2)",
        token_hash,
        grant,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The grant of the refresh token hashed to `token_hash`, if there is such a token.
pub async fn grant_of_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "SELECT grant_id FROM refresh_tokens WHERE token_hash = $1",
        token_hash,
    )
    .fetch_optional(conn)
    .await
}

/// Locks the refresh token hashed to `token_hash` and its grant (`FOR UPDATE`, so concurrent
/// refreshes of one token take turns), with what rotating it needs to know. `grace` is the
/// window within which a used token's reuse is forgiven.
pub async fn lock_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    grace: Duration,
) -> sqlx::Result<Option<PresentedRefreshToken>> {
    // `live` and `used` are never NULL (`expires_at` is NOT NULL, and IS [NOT] NULL is never
    // NULL); `within_grace` is NULL when the token was never used.
    sqlx::query_as!(
        PresentedRefreshToken,
        r#"SELECT g.id AS grant_id, g.person_id, g.client_id, g.scope,
                g.revoked_at IS NULL AND g.expires_at > now() AS "live!",
                r.used_at IS NOT NULL AS "used!",
                r.used_at > now() - make_interval(secs => $2) AS within_grace,
                r.replaced_by
         FROM refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id
         WHERE r.token_hash = $1 FOR UPDATE OF r, g"#,
        token_hash,
        grace.as_secs_f64(),
    )
    .fetch_optional(conn)
    .await
}

/// Whether the refresh token hashed to `token_hash` exists and was never used.
pub async fn refresh_token_unused(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<bool> {
    let unused = sqlx::query_scalar!(
        r#"SELECT used_at IS NULL AS "unused!" FROM refresh_tokens WHERE token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(conn)
    .await?;
    Ok(unused.unwrap_or(false))
}

/// Marks the refresh token hashed to `token_hash` used, without naming a successor: for a
/// successor that its client never received.
pub async fn retire_refresh_token(conn: &mut PgConnection, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1",
        token_hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the refresh token hashed to `token_hash` replaced by the one hashed to `successor`
/// (its first use time is kept when it was already used).
pub async fn rotate_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    successor: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE refresh_tokens SET used_at = coalesce(used_at, now()), replaced_by = $2 WHERE token_hash = $1",
        token_hash,
        successor,
    )
    .execute(conn)
    .await?;
    Ok(())
}
