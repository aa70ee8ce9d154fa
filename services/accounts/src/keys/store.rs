//! The SQL of the signing keys: the active key, the rotation's steps (run in one
//! transaction under an advisory lock), and the published public keys. Each function runs on
//! the connection (or transaction) its caller passes.

use sqlx::PgConnection;

/// The active key, sealed.
pub struct ActiveKey {
    /// Its key id.
    pub kid: String,
    /// Its PKCS#8 private key, sealed under the wrapping secret.
    pub sealed_key: Vec<u8>,
}

/// The newest key that is not retired, if any.
pub async fn active(conn: &mut PgConnection) -> Result<Option<ActiveKey>, sqlx::Error> {
    sqlx::query_as!(
        ActiveKey,
        "SELECT kid, sealed_key FROM signing_keys WHERE retired_at IS NULL \
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await
}

/// Stops publishing every retired key now; returns how many it unpublished.
pub async fn unpublish_retired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE signing_keys SET publish_until = now() \
         WHERE retired_at IS NOT NULL AND publish_until > now()",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Takes the rotation's advisory lock, held until the transaction ends, so that one replica
/// at a time rotates.
pub async fn lock_rotation(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    // pg_advisory_xact_lock returns void: the macro needs the column named and typed.
    sqlx::query_scalar!(
        r#"SELECT pg_advisory_xact_lock(hashtext('flotilla.signing_keys')) AS "locked: ()""#
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Whether no active key is younger than `rotation_secs`: the first key, or the next one, is
/// due.
pub async fn rotation_due(
    conn: &mut PgConnection,
    rotation_secs: f64,
) -> Result<bool, sqlx::Error> {
    // NOT EXISTS is never null.
    sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL
             AND created_at > now() - make_interval(secs => $1)) AS "due!""#,
        rotation_secs,
    )
    .fetch_one(conn)
    .await
}

/// Retires the active key, keeping it published `publish_secs` longer.
pub async fn retire_active(conn: &mut PgConnection, publish_secs: f64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE signing_keys SET retired_at = now(), \
         publish_until = now() + make_interval(secs => $1) WHERE retired_at IS NULL",
        publish_secs,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a new active key: its public JWK (JSON text, stored as `jsonb`) and its sealed
/// private key.
pub async fn insert(
    conn: &mut PgConnection,
    kid: &str,
    public_jwk: &str,
    sealed_key: &[u8],
) -> Result<(), sqlx::Error> {
    // The JWK goes in as text: the workspace's sqlx decodes and encodes no `jsonb`.
    sqlx::query!(
        "INSERT INTO signing_keys (kid, algorithm, public_jwk, sealed_key) \
         VALUES ($1, 'ES256', $2::text::jsonb, $3)",
        kid,
        public_jwk,
        sealed_key,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the keys unpublished more than a day ago: no token they signed can verify.
pub async fn forget_unpublished(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM signing_keys WHERE publish_until < now() - interval '1 day'")
        .execute(conn)
        .await?;
    Ok(())
}

/// The public JWKs of the published keys, newest first, as JSON text.
pub async fn published_jwks(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    // `public_jwk::text` of a NOT NULL column is never null.
    sqlx::query_scalar!(
        r#"SELECT public_jwk::text AS "public_jwk!" FROM signing_keys
         WHERE publish_until IS NULL OR publish_until > now() ORDER BY created_at DESC"#
    )
    .fetch_all(conn)
    .await
}

/// When the active key was created, if there is one.
pub async fn active_created(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT extract(epoch FROM max(created_at))::bigint FROM signing_keys \
         WHERE retired_at IS NULL",
    )
    .fetch_one(conn)
    .await
}
