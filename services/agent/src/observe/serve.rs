//! `/healthz` (the process is up: liveness, never tied to Flotilla or Kubernetes, so an
//! outage elsewhere does not restart the agent), `/readyz` (200 when every condition holds,
//! else 503 naming each problem) and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;

use super::health::Health;
use super::metrics::Metrics;
use crate::k8s::lease::Leadership;

/// What the server shows.
pub struct Shown {
    /// Readiness.
    pub health: Arc<Health>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Whether this replica leads.
    pub leadership: Leadership,
}

/// Binds `listen` (failing at once if it cannot) and serves until `stop` turns true.
pub async fn start(
    listen: SocketAddr,
    shown: Shown,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(Arc::new(shown));
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "the health and metrics server failed");
        }
    });
    Ok(bound)
}

async fn readyz(State(shown): State<Arc<Shown>>) -> impl IntoResponse {
    let problems = shown.health.problems();
    let leader = shown.leadership.is_leader();
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "leader": leader})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "leader": leader, "problems": problems})),
        )
    }
}

async fn metrics(State(shown): State<Arc<Shown>>) -> impl IntoResponse {
    shown
        .metrics
        .leader
        .set(i64::from(shown.leadership.is_leader()));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shown.metrics.encode(),
    )
}
