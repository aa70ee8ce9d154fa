//! The HTTP stack every Flotilla router is served through, so each endpoint inherits request
//! ids, tracing, limits, compression, panic catching, metrics and problem+json errors.

mod body_watch;
pub mod client_addr;
pub mod edge;
mod json_body;
pub mod metrics;
pub mod name_check;
pub mod ops;
pub mod paging;
pub mod problem_responses;
pub mod problems;
mod request_uri;

use axum::extract::DefaultBodyLimit;
use std::sync::Arc;

use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;

use crate::context::AppContext;
use client_addr::TrustedProxies;
use edge::Edge;
use problems::Limits;

/// Wraps `router` (all routes already added) in the full middleware stack.
pub fn serve_stack(router: Router, ctx: &AppContext) -> Router {
    let config = &ctx.config;
    let body_limit = usize::try_from(config.body_limit).unwrap_or(usize::MAX);
    let edge = Edge {
        limits: Limits {
            body_limit: config.body_limit,
            timeout: config.request_timeout.0,
        },
        metrics: ctx.metrics.clone(),
        outage: ctx.outage.clone(),
        proxies: Arc::new(TrustedProxies {
            networks: config.trusted_proxies.0.clone(),
            header: config.forwarded_header,
        }),
    };
    // One composed layer (outermost first), so a request goes through one boxed route service
    // rather than one per concern.
    let stack = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .layer(edge::EnvelopeLayer(edge))
        // Streamed bodies over the limit are cut off by the extractors (413); declared ones
        // are refused by the envelope.
        .layer(DefaultBodyLimit::max(body_limit));
    router
        .route_layer(metrics::ExposeMatchedPathLayer)
        .layer(stack)
}
