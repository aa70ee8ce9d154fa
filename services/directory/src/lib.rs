//! The directory service: Flotilla's public-key directory. Clusters trust each other through
//! it without sharing a private key: kubeconfig lookups (server URL and CA), trusted identity
//! providers (SPIFFE prefix and identity CAs), SPIFFE bundles and the account's bundle map
//! (with long-polls), the JWT authorities clusters publish, and the public bundle endpoint
//! for SPIFFE federation. Agents poll it: reads come from a per-replica snapshot cache kept
//! current by Postgres change announcements.

pub mod bundles;
pub mod cache;
pub mod conditional;
pub mod jwk;
pub mod jwt_authorities;
pub mod listener;
pub mod lookups;
pub mod reader;
pub mod snapshot;
pub mod store;

use std::sync::Arc;

use axum::Extension;
use flotilla_core::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The service's routes (the JSON API and the public bundle endpoint), with their OpenAPI
/// descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(lookups::kubeconfig))
        .routes(routes!(lookups::identity_provider))
        .routes(routes!(jwt_authorities::put, jwt_authorities::get))
        .routes(routes!(bundles::bundle_map))
        .routes(routes!(bundles::public_bundle))
        .layer(Extension(Arc::new(cache::Directory::default())))
}

/// The service's background work: the change listener. Call once the database is migrated.
pub fn spawn_workers(ctx: &AppContext) {
    tokio::spawn(listener::run(ctx.clone()));
}
