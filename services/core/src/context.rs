//! The state every handler gets: configuration, the database pool, readiness and metrics.

use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::AuthState;
use crate::changes::Changes;
use crate::config::Config;
use crate::db::outage::Outage;
use crate::db::{self, Readiness};
use crate::http::metrics::Metrics;

/// Shared application state (`State<AppContext>` in handlers). One `Arc`, because axum clones
/// the state for every request: one reference count to bump rather than one per field.
#[derive(Clone)]
pub struct AppContext(Arc<AppState>);

/// What [`AppContext`] holds.
pub struct AppState {
    /// The validated settings every service needs (each service's own are in its state).
    pub config: Config,
    /// The Postgres pool of requests and short work: the single source of truth.
    pub db: PgPool,
    /// The connections held for the process's life (listeners, the DNS zone's lock), apart
    /// so that they never take the requests' connections.
    pub listen_db: PgPool,
    /// Whether the database is known to be away (API requests then answer 503 at once).
    pub outage: Arc<Outage>,
    /// Whether start-up (migrations) is done.
    pub readiness: Readiness,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Authentication keys and caches.
    pub auth: Arc<AuthState>,
    /// Per-account change counters of the directory (cache keys, long-poll wake-ups).
    pub changes: Changes,
}

impl AppContext {
    /// A context over `db`, not yet ready.
    pub fn new(config: Config, db: PgPool) -> Self {
        let outage = Arc::new(Outage::new(db.connect_options().as_ref().clone()));
        Self(Arc::new(AppState {
            config,
            listen_db: db::listen_pool(&db),
            outage,
            db,
            readiness: Readiness::default(),
            metrics: Arc::new(Metrics::new()),
            auth: Arc::default(),
            changes: Changes::default(),
        }))
    }
}

impl Deref for AppContext {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.0
    }
}
