//! Browser sessions: a random secret in an HttpOnly, SameSite=Lax cookie (`__Host-` and
//! `Secure` outside development mode), stored hashed in Postgres with idle and absolute
//! expiry. Log-out deletes the row, so the cookie is worthless even if kept.

use axum::http::HeaderValue;
use flotilla_core::auth::credentials::{SESSION_ABSOLUTE, SESSION_COOKIE};
use flotilla_core::auth::{commit_change, opaque};
use flotilla_core::AppContext;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// Starts a session for `person`; returns the `Set-Cookie` value.
pub async fn start(ctx: &AppContext, person: Uuid) -> Result<HeaderValue> {
    let secret = opaque::new_secret();
    sqlx::query!(
        "INSERT INTO sessions (id, token_hash, person_id, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        Uuid::new_v4(),
        opaque::hash(&secret),
        person,
        SESSION_ABSOLUTE.as_secs_f64(),
    )
    .execute(&ctx.db)
    .await?;
    Ok(SESSION_COOKIE.set(ctx.config.dev, &secret, SESSION_ABSOLUTE.as_secs()))
}

/// Ends `session`.
pub async fn end(ctx: &AppContext, session: Uuid) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    sqlx::query!("DELETE FROM sessions WHERE id = $1", session)
        .execute(&mut *tx)
        .await?;
    commit_change(ctx, tx, "session").await?;
    Ok(())
}

/// Deletes the sessions expired for over a day (the sweeper's part for this table); returns
/// how many.
pub async fn delete_expired(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear(ctx: &AppContext) -> HeaderValue {
    SESSION_COOKIE.set(ctx.config.dev, "", 0)
}
