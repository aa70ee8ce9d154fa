//! The SQL of started log-ins: what the callback needs to finish one (the provider, the PKCE
//! verifier, the nonce, where to return), stored under the hash of its `state`.

use sqlx::PgConnection;

/// A started log-in, as stored.
pub struct Attempt {
    /// The provider's id.
    pub provider: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// Where to send the browser afterwards.
    pub return_to: String,
}

/// Deletes the log-ins nobody finished in time (the sweeper's part for this table); returns
/// how many.
pub async fn delete_expired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM login_attempts WHERE expires_at < now()")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Stores a log-in started with `provider` under `state_hash`, for `ttl_secs` seconds.
pub async fn insert(
    conn: &mut PgConnection,
    state_hash: &[u8],
    provider: &str,
    pkce_verifier: &str,
    nonce: &str,
    return_to: &str,
    ttl_secs: f64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO login_attempts (state_hash, provider, pkce_verifier, nonce, return_to, expires_at) \
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        state_hash,
        provider,
        pkce_verifier,
        nonce,
        return_to,
        ttl_secs,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (deletes and returns) the unexpired log-in stored under `state_hash`, so that it
/// completes at most once.
pub async fn take(
    conn: &mut PgConnection,
    state_hash: &[u8],
) -> Result<Option<Attempt>, sqlx::Error> {
    sqlx::query_as!(
        Attempt,
        "DELETE FROM login_attempts WHERE state_hash = $1 AND expires_at > now() \
         RETURNING provider, pkce_verifier, nonce, return_to",
        state_hash,
    )
    .fetch_optional(conn)
    .await
}
