//! The state every handler gets: configuration, the database pool, readiness and metrics.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::db::Readiness;
use crate::http::metrics::Metrics;

/// Shared, cheaply cloned application state (`State<AppContext>` in handlers).
#[derive(Clone)]
pub struct AppContext {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The Postgres pool: the single source of truth.
    pub db: PgPool,
    /// Whether start-up (migrations) is done.
    pub readiness: Readiness,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
}

impl AppContext {
    /// A context over `db`, not yet ready.
    pub fn new(config: Config, db: PgPool) -> Self {
        Self {
            config: Arc::new(config),
            db,
            readiness: Readiness::default(),
            metrics: Arc::new(Metrics::new()),
        }
    }
}
