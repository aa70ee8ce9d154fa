//! The DNS service: global DNS for the accounts' hosts. Agents report endpoints; each host is
//! planned into latency-per-region and weighted-per-cluster record sets (a pure function);
//! a durable reconciler brings the provider's zone (Route53, PowerDNS, or none) to the plan,
//! one worker per zone, changing only records Flotilla owns.

pub mod endpoints;
pub mod hosts;
pub mod plan;
pub mod providers;
pub mod reconciler;
pub mod records;
pub mod responses;
pub mod rules;
pub mod views;

use std::sync::Arc;

use flotilla_core::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::providers::Provider;

/// The service's JSON API, with its OpenAPI descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(endpoints::report::put, endpoints::report::delete))
        .routes(routes!(endpoints::set::get, endpoints::set::replace))
        .routes(routes!(views::endpoints))
        .routes(routes!(views::records))
        .routes(routes!(views::changes))
}

/// The service's background work: the reconciler of the configured provider. Call once the
/// database is migrated.
pub fn spawn_workers(ctx: &AppContext) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        match Provider::from_config(&ctx.config).await {
            Ok(provider) => reconciler::run(ctx, Arc::new(provider)).await,
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "the DNS provider cannot be set up; DNS is not reconciled"
            ),
        }
    });
}
