//! Postgres: the pool, the migrations in `migrations/`, and the readiness they decide.

pub mod binaries;
pub mod embedded;
pub mod outage;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// The migrations in `migrations/`, embedded at compile time, applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// How long a request waits for a connection before it is answered 503: long enough for a
/// burst to drain, short enough that a client hears of an outage promptly (afterwards the
/// outage breaker answers at once, see [`outage`]).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections kept outside the request pool: the auth-change, directory-change and DNS
/// listeners, and the DNS zone's lock. Held for the process's life, they would otherwise
/// starve a small request pool (`--db-max-connections 2` left no connection for requests).
pub const LISTEN_CONNECTIONS: u32 = 4;

/// A pool that connects on first use, so the server can answer `/healthz` (and a not-ready
/// `/readyz`) while the database is still coming up.
pub fn lazy_pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options)
}

/// The pool of long-held connections ([`LISTEN_CONNECTIONS`]), on `requests`' settings.
pub fn listen_pool(requests: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(LISTEN_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // Held on purpose: a listener that is closed for idling misses notifications.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(requests.connect_options().as_ref().clone())
}

/// Applies `migrator`'s pending migrations. sqlx takes a Postgres advisory lock (keyed on the
/// database) around the run, so replicas starting together apply each migration exactly once:
/// the others wait, then find nothing left to do.
pub async fn migrate(
    pool: &PgPool,
    migrator: &Migrator,
) -> Result<(), sqlx::migrate::MigrateError> {
    debug_assert!(
        migrator.locking,
        "migrations must run under the advisory lock"
    );
    migrator.run(pool).await
}

/// One round trip to the database: whether it answers at all.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    // `query_scalar!` because `SELECT 1` names its column `?column?`, which `query!` cannot
    // turn into a field.
    sqlx::query_scalar!("SELECT 1").fetch_one(pool).await?;
    Ok(())
}

/// Waits for the database to answer, retrying with backoff until `timeout`.
pub async fn wait_for_database(pool: &PgPool, timeout: Duration) -> Result<(), sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        match ping(pool).await {
            Ok(_) => return Ok(()),
            Err(e) if tokio::time::Instant::now() + delay < deadline => {
                tracing::info!(error = %e, "waiting for the database");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether start-up work (migrations) is done; `/readyz` also checks the database answers.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks start-up as done.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether start-up is done.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
