//! The directory service: Flotilla's public-key directory. Clusters trust each other through
//! it without sharing a private key: kubeconfig lookups (server URL and CA), trusted identity
//! providers (SPIFFE prefix and identity CAs), SPIFFE bundles and the account's bundle map
//! (with long-polls), the JWT authorities clusters publish, and the public bundle endpoint
//! for SPIFFE federation. Agents poll it: reads come from a per-replica snapshot cache kept
//! current by Postgres change announcements. The service's settings are in `settings`, its
//! metrics in `metrics`; [`Directory`] holds both, and the cache, for the handlers.

pub mod bundles;
pub mod cache;
pub mod conditional;
pub mod jwk;
pub mod jwt_authorities;
pub mod listener;
pub mod lookups;
pub mod metrics;
pub mod reader;
pub mod settings;
pub mod snapshot;
pub mod store;

use std::sync::Arc;

use flotilla_core::http::metrics::Metrics;
use flotilla_core::{AppContext, Error};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use cache::Snapshots;
use metrics::DirectoryMetrics;
use settings::DirectorySettings;
use snapshot::Snapshot;

/// The service's own state (beside the shared [`AppContext`]), reached through an
/// `Extension` layer: its settings, its metrics and this replica's cache of directories.
pub struct Directory {
    /// The service's settings.
    pub settings: DirectorySettings,
    /// The service's metrics.
    pub metrics: DirectoryMetrics,
    snapshots: Snapshots,
}

impl Directory {
    /// The service's state for `settings`, its metrics registered in `metrics`.
    pub fn new(settings: DirectorySettings, metrics: &Metrics) -> Arc<Self> {
        Arc::new(Self {
            settings,
            metrics: DirectoryMetrics::registered(metrics),
            snapshots: Snapshots::default(),
        })
    }

    /// The account's directory as of its current version, from this replica's cache.
    pub async fn snapshot(&self, ctx: &AppContext, account: Uuid) -> Result<Arc<Snapshot>, Error> {
        self.snapshots
            .snapshot(ctx, &self.settings, &self.metrics, account)
            .await
    }
}

/// The service's routes (the JSON API and the public bundle endpoint), with their OpenAPI
/// descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(lookups::kubeconfig))
        .routes(routes!(lookups::identity_provider))
        .routes(routes!(jwt_authorities::put, jwt_authorities::get))
        .routes(routes!(bundles::bundle_map))
        .routes(routes!(bundles::public_bundle))
}

/// The service's background work: the change listener. Call once the database is migrated.
pub fn spawn_workers(ctx: &AppContext) {
    tokio::spawn(listener::run(ctx.clone()));
}
