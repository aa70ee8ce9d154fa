//! Hears every replica's directory changes: Postgres triggers announce each one with
//! `NOTIFY flotilla_directory, '<account id>'`, delivered at commit, and this task moves the
//! account's version, which wakes its long-polls and retires its cached snapshot. While the
//! listener is not connected, announcements may be missed: every account is then treated
//! as changed once a second, so nothing served is more than a second stale.

use std::time::Duration;

use flotilla_core::AppContext;
use sqlx::postgres::PgListener;
use uuid::Uuid;

/// The channel the triggers announce on.
pub const CHANNEL: &str = "flotilla_directory";

/// How often every account is treated as changed while no announcement can be heard.
const DEAF_REFRESH: Duration = Duration::from_secs(1);

/// Runs until the server stops (its pool closes).
pub async fn run(ctx: AppContext) {
    loop {
        match PgListener::connect_with(&ctx.listen_db).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // Whatever changed before this point was not heard.
                    ctx.changes.bump_all();
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        match Uuid::parse_str(notification.payload()) {
                            Ok(account) => ctx.changes.bump(account),
                            Err(_) => ctx.changes.bump_all(),
                        }
                    }
                    if !ctx.listen_db.is_closed() {
                        tracing::warn!("lost the directory-change listener; refreshing every second until it is back");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for directory changes"),
            },
            Err(e) => tracing::debug!(error = %e, "directory-change listener cannot connect yet"),
        }
        if ctx.listen_db.is_closed() {
            return; // the server is stopping
        }
        ctx.changes.bump_all();
        tokio::time::sleep(DEAF_REFRESH).await;
    }
}
