//! The SQL of device authorizations (`device_codes`). A device code is looked up by its hash;
//! a user code is stored as the person types it once normalised (eight letters, no dash).

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

/// A device authorization about to be stored.
pub struct NewDeviceCode<'a> {
    /// The hash of the device's secret.
    pub device_code_hash: &'a [u8],
    /// The normalised user code.
    pub user_code: &'a str,
    /// The client that started it.
    pub client_id: &'a str,
    /// The scopes asked for.
    pub scope: &'a str,
    /// How long it waits for approval.
    pub ttl: Duration,
    /// The polling interval asked of the device, in seconds.
    pub interval_secs: i32,
}

/// A device authorization as its device's poll sees it (the row locked).
pub struct PolledDeviceCode {
    /// The client that started it.
    pub client_id: String,
    /// The scopes asked for.
    pub scope: String,
    /// `pending`, `approved`, `denied` or `used`.
    pub status: String,
    /// It has not expired.
    pub live: bool,
    /// The previous poll was less than the polling interval ago.
    pub too_soon: bool,
    /// Who approved or denied it.
    pub person_id: Option<Uuid>,
}

/// Deletes device authorizations expired for over a day (the sweeper's part for this
/// table); returns how many.
pub async fn delete_expired(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM device_codes WHERE expires_at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Stores a pending device authorization; `false` when its user code is already taken (the
/// caller draws another).
pub async fn insert(conn: &mut PgConnection, new: &NewDeviceCode<'_>) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, expires_at, interval_secs) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6) ON CONFLICT (user_code) DO NOTHING",
        new.device_code_hash,
        new.user_code,
        new.client_id,
        new.scope,
        new.ttl.as_secs_f64(),
        new.interval_secs,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Locks the device authorization of the device code hashed to `device_code_hash`
/// (`FOR UPDATE`: one poll at a time), with what answering the poll needs.
pub async fn lock_for_poll(
    conn: &mut PgConnection,
    device_code_hash: &[u8],
) -> sqlx::Result<Option<PolledDeviceCode>> {
    // Neither expression is ever NULL: `expires_at` is NOT NULL, and `too_soon` is false
    // when `last_polled_at` is NULL (`false AND NULL` is false).
    sqlx::query_as!(
        PolledDeviceCode,
        r#"SELECT client_id, scope, status, expires_at > now() AS "live!",
                last_polled_at IS NOT NULL AND last_polled_at > now() - make_interval(secs => interval_secs) AS "too_soon!",
                person_id
         FROM device_codes WHERE device_code_hash = $1 FOR UPDATE"#,
        device_code_hash,
    )
    .fetch_optional(conn)
    .await
}

/// Records a poll that came too soon: the device must wait 5 s more from now on.
pub async fn slow_down(conn: &mut PgConnection, device_code_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE device_codes SET interval_secs = interval_secs + 5, last_polled_at = now() \
         WHERE device_code_hash = $1",
        device_code_hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a poll in time.
pub async fn record_poll(conn: &mut PgConnection, device_code_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE device_codes SET last_polled_at = now() WHERE device_code_hash = $1",
        device_code_hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks an approved device authorization used: its tokens were issued.
pub async fn mark_used(conn: &mut PgConnection, device_code_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE device_codes SET status = 'used' WHERE device_code_hash = $1",
        device_code_hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records `person`'s decision (`approved` or `denied`) on the pending, unexpired device
/// authorization of `user_code`; `false` when there is none.
pub async fn decide(
    conn: &mut PgConnection,
    user_code: &str,
    status: &str,
    person: Uuid,
) -> sqlx::Result<bool> {
    let changed = sqlx::query!(
        "UPDATE device_codes SET status = $2, person_id = $3 \
         WHERE user_code = $1 AND status = 'pending' AND expires_at > now()",
        user_code,
        status,
        person,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed != 0)
}
