//! The clusters service: registration tokens, cluster registration (public material only:
//! identity and server CA certificates), agent authentication by cluster assertions,
//! heartbeats and the status they give clusters.
//!
//! Each resource is a folder: its types and what it does in `mod.rs`, its SQL in
//! `store.rs`, its endpoints in `handlers.rs` (registration also has `check.rs` for the
//! body and `registrar.rs` for who registers). `agent` holds the extractors of the
//! endpoints agents call, `assertion` how an agent is authenticated. The service's settings
//! (the heartbeat thresholds) are in `settings`, its metrics in `metrics`; [`Clusters`] holds
//! both for the handlers and the sweeper.

pub mod agent;
pub mod assertion;
pub mod certificates;
pub mod clusters;
pub mod heartbeat;
pub mod labels;
pub mod metrics;
pub mod registration;
pub mod registration_tokens;
pub mod responses;
pub mod settings;
pub mod status;

use std::sync::Arc;

use axum::Extension;
use flotilla_core::http::metrics::Metrics;
use flotilla_core::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use metrics::ClusterMetrics;
use settings::ClusterSettings;

/// The service's own state (beside the shared [`AppContext`]), reached through an
/// `Extension` layer.
pub struct Clusters {
    /// The service's settings.
    pub settings: ClusterSettings,
    /// The service's metrics.
    pub metrics: ClusterMetrics,
}

impl Clusters {
    /// The service's state for `settings`, its metrics registered in `metrics`.
    pub fn new(settings: ClusterSettings, metrics: &Metrics) -> Arc<Self> {
        Arc::new(Self {
            settings,
            metrics: ClusterMetrics::registered(metrics),
        })
    }
}

/// The service's JSON API, with its OpenAPI descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(
            registration_tokens::handlers::create,
            registration_tokens::handlers::list
        ))
        .routes(routes!(registration_tokens::handlers::revoke))
        .routes(routes!(clusters::handlers::list))
        .routes(routes!(
            registration::handlers::register,
            clusters::handlers::get,
            clusters::handlers::deregister
        ))
        .routes(routes!(clusters::handlers::remove_identity_ca))
        .routes(routes!(clusters::handlers::events))
        .routes(routes!(heartbeat::handlers::heartbeat))
        .routes(routes!(heartbeat::handlers::whoami))
        .layer(Extension(heartbeat::beats::Beats::default()))
}

/// The service's background work: the status sweeper. Call once the database is migrated.
pub fn spawn_workers(ctx: &AppContext, clusters: &Arc<Clusters>) {
    tokio::spawn(status::run_sweeper(ctx.clone(), clusters.clone()));
}
