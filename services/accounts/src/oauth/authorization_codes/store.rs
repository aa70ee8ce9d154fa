//! The SQL of authorization codes (`authorization_codes`), looked up by their hash: the code
//! itself is never stored.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// An authorization code about to be stored.
pub struct NewAuthorizationCode<'a> {
    /// The hash of the code.
    pub code_hash: &'a [u8],
    /// The person who allowed it.
    pub person_id: Uuid,
    /// The client it is for.
    pub client_id: &'a str,
    /// The loopback redirect URI it was sent to; the token request must name the same.
    pub redirect_uri: &'a str,
    /// The PKCE S256 challenge.
    pub code_challenge: &'a str,
    /// The granted scopes.
    pub scope: &'a str,
    /// How long it lives.
    pub ttl: Duration,
}

/// An authorization code as the token endpoint redeems it (the row locked).
pub struct PresentedAuthorizationCode {
    /// The person who allowed it.
    pub person_id: Uuid,
    /// The client it is for.
    pub client_id: String,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The granted scopes.
    pub scope: String,
    /// It has not expired.
    pub live: bool,
    /// It was already redeemed.
    pub used: bool,
    /// The grant it was redeemed for, if it was.
    pub grant_id: Option<Uuid>,
}

/// Deletes authorization codes expired for over a day (the sweeper's part for this table);
/// returns how many. The day keeps a replayed code recognisable as one for a while.
pub async fn delete_expired(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM authorization_codes WHERE expires_at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Stores a new, unused authorization code.
pub async fn insert(conn: &mut PgConnection, new: &NewAuthorizationCode<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO authorization_codes (code_hash, person_id, client_id, redirect_uri, code_challenge, scope, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
        new.code_hash,
        new.person_id,
        new.client_id,
        new.redirect_uri,
        new.code_challenge,
        new.scope,
        new.ttl.as_secs_f64(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the authorization code hashed to `code_hash` (`FOR UPDATE`: it is redeemed once),
/// with what redeeming it needs.
pub async fn lock(
    conn: &mut PgConnection,
    code_hash: &[u8],
) -> sqlx::Result<Option<PresentedAuthorizationCode>> {
    // Neither expression is ever NULL: `expires_at` is NOT NULL, and IS NOT NULL never is.
    sqlx::query_as!(
        PresentedAuthorizationCode,
        r#"SELECT person_id, client_id, redirect_uri, code_challenge, scope,
                expires_at > now() AS "live!", used_at IS NOT NULL AS "used!", grant_id
         FROM authorization_codes WHERE code_hash = $1 FOR UPDATE"#,
        code_hash,
    )
    .fetch_optional(conn)
    .await
}

/// Marks the authorization code hashed to `code_hash` redeemed for `grant`.
pub async fn mark_used(conn: &mut PgConnection, code_hash: &[u8], grant: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE authorization_codes SET used_at = now(), grant_id = $2 WHERE code_hash = $1",
        code_hash,
        grant,
    )
    .execute(conn)
    .await?;
    Ok(())
}
