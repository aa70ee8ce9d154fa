//! The clusters service: registration tokens, cluster registration (public material only:
//! identity and server CA certificates), agent authentication by cluster assertions,
//! heartbeats and the status they give clusters.

pub mod agent;
pub mod assertion;
pub mod beats;
pub mod certificates;
pub mod clusters;
pub mod heartbeat;
pub mod labels;
pub mod registration;
pub mod registration_tokens;
pub mod status;

use axum::Extension;
use flotilla_core::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The service's JSON API, with its OpenAPI descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(
            registration_tokens::create,
            registration_tokens::list
        ))
        .routes(routes!(registration_tokens::revoke))
        .routes(routes!(clusters::list))
        .routes(routes!(
            registration::register,
            clusters::get,
            clusters::deregister
        ))
        .routes(routes!(clusters::remove_identity_ca))
        .routes(routes!(clusters::events))
        .routes(routes!(heartbeat::heartbeat))
        .routes(routes!(heartbeat::whoami))
        .layer(Extension(beats::Beats::default()))
}

/// The service's background work: the status sweeper. Call once the database is migrated.
pub fn spawn_workers(ctx: &AppContext) {
    tokio::spawn(status::run_sweeper(ctx.clone()));
}
