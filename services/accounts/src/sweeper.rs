//! The expired-row sweeper. Started log-ins, browser sessions, device authorizations and
//! authorization codes expire in place: every read of them checks `expires_at`, so an expired
//! row is already refused and only takes up room. One background task deletes them all, on a
//! schedule, instead of each insert path clearing its table first. Each table's DELETE stays
//! in that table's store. Every replica sweeps; the deletes are idempotent, so two replicas
//! sweeping at once only repeat each other.

use std::time::Duration;

use flotilla_core::AppContext;
use sqlx::PgConnection;

use crate::login::attempts;
use crate::oauth::{authorization_codes, device};
use crate::sessions;

/// Time between two sweeps. Nothing reads an expired row, so this only bounds how long one
/// waits for deletion.
const PERIOD: Duration = Duration::from_secs(300);

/// Sweeps every table of expiring rows now and then every [`PERIOD`] (runs until the end).
pub async fn run_sweeper(ctx: AppContext) {
    loop {
        match ctx.db.acquire().await {
            Ok(mut conn) => sweep(&mut conn).await,
            Err(e) => tracing::warn!(error = %e, "sweeping expired rows failed; will retry"),
        }
        tokio::time::sleep(PERIOD).await;
    }
}

/// Deletes the expired rows of each table; a failure on one table does not spare the others.
pub async fn sweep(conn: &mut PgConnection) {
    swept("login_attempts", attempts::delete_expired(conn).await);
    swept("sessions", sessions::delete_expired(conn).await);
    swept("device_codes", device::store::delete_expired(conn).await);
    swept(
        "authorization_codes",
        authorization_codes::store::delete_expired(conn).await,
    );
}

/// Logs what sweeping `table` did.
fn swept(table: &'static str, result: Result<u64, sqlx::Error>) {
    match result {
        Ok(0) => {}
        Ok(rows) => tracing::debug!(table, rows, "expired rows deleted"),
        Err(e) => {
            tracing::warn!(table, error = %e, "deleting expired rows failed; will retry")
        }
    }
}
