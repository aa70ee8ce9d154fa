//! Operations endpoints: liveness, readiness and Prometheus metrics.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::AppContext;
use crate::error::{Error, Result};
use crate::problem::Problem;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (process up) or `ready` (database answers, migrations done).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The operations routes.
pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Liveness: the process is up and serving HTTP. Never touches the database.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers and start-up migrations are done.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Not ready: migrations running or database unreachable",
            body = Problem, content_type = "application/problem+json"),
    ))]
async fn readyz(State(ctx): State<AppContext>) -> Result<Json<Health>> {
    if !ctx.readiness.is_ready() {
        return Err(Error::Unavailable(
            "Start-up is not finished: waiting for the database and applying migrations.".into(),
        ));
    }
    let ping = crate::db::ping(&ctx.db);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(Json(Health { status: "ready" })),
        _ => Err(Error::Unavailable("The database does not answer.".into())),
    }
}

/// Prometheus metrics (OpenMetrics text): requests by route and status, latency, pool figures.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics in the OpenMetrics text format",
        body = String, content_type = "application/openmetrics-text")))]
async fn metrics(State(ctx): State<AppContext>) -> impl IntoResponse {
    // Readiness as of this scrape (the breaker's view of the database, not a query).
    let ready = ctx.readiness.is_ready() && !ctx.outage.is_away();
    ctx.metrics.ready.set(i64::from(ready));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        ctx.metrics.render(&ctx.db),
    )
}
