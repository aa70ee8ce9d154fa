//! The HTTP stack every Flotilla router is served through, so each endpoint inherits request
//! ids, tracing, limits, compression, panic catching, metrics and problem+json errors.

pub mod metrics;
pub mod name_check;
pub mod ops;
pub mod problems;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::context::AppContext;
use problems::ProblemSettings;

/// The policy for API answers: nothing may be loaded or framed. Pages that need more (the
/// API reference) set their own before this default applies.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Wraps `router` (all routes already added) in the full middleware stack.
pub fn serve_stack(router: Router, ctx: &AppContext) -> Router {
    let config = &ctx.config;
    let body_limit = usize::try_from(config.body_limit).unwrap_or(usize::MAX);
    let timeout = config.request_timeout.0;
    let settings = ProblemSettings {
        body_limit: config.body_limit,
        timeout_secs: timeout.as_secs(),
    };
    let x_request_id = HeaderName::from_static("x-request-id");
    // Innermost first: each `layer` call wraps everything added before it.
    router
        .route_layer(middleware::from_fn(metrics::expose_matched_path))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(problems::panic_response))
        .layer(middleware::from_fn_with_state(
            settings,
            problems::problem_details,
        ))
        .layer(middleware::from_fn_with_state(
            ctx.metrics.clone(),
            metrics::record,
        ))
        .layer(CompressionLayer::new())
        .layer(default_header(
            header::CONTENT_SECURITY_POLICY,
            API_CONTENT_SECURITY_POLICY,
        ))
        .layer(default_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(default_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(default_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

fn default_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The span of one request: method, path (never the query, which may carry codes or tokens)
/// and request id.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    )
}
