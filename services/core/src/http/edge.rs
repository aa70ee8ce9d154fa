//! The envelope of every request, in one middleware: a request id, a tracing span, the
//! request timeout, panic catching, problem+json for every error, metrics, and the default
//! security headers. One layer rather than one per concern, because each router layer costs
//! a boxed service per request (`bench/foundation.sh` measures what the envelope costs).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tracing::Instrument;

use super::metrics::Metrics;
use super::problems::{self, ProblemSettings};

/// The request id header, taken from the client when sensible, generated otherwise.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id we accept; longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// The policy for API answers: nothing may be loaded or framed. Pages that need more (the
/// API reference) set their own, which this default does not override.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

const DEFAULT_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, API_CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// What the envelope needs.
#[derive(Clone)]
pub struct Edge {
    /// The request timeout.
    pub timeout: Duration,
    /// Limits quoted in problem details.
    pub problems: ProblemSettings,
    /// Where requests are counted.
    pub metrics: Arc<Metrics>,
}

/// Middleware: wraps one request in the envelope.
pub async fn envelope(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = match request.headers().get(&X_REQUEST_ID) {
        Some(id) if is_acceptable_id(id) => id.clone(),
        _ => {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
            let id = HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid"));
            request.headers_mut().insert(X_REQUEST_ID, id.clone());
            id
        }
    };
    // A declared body over the limit is refused before anything reads it; a streamed one is
    // cut off by the extractors' limit (`DefaultBodyLimit`) as it arrives.
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = declared_length.is_some_and(|len| len > edge.problems.body_limit);
    let method = request.method().clone();
    let uri = request.uri().clone();
    // Never the query: it may carry codes or tokens.
    let span = tracing::info_span!(
        "request",
        method = method.as_str(),
        path = uri.path(),
        request_id = request_id.to_str().unwrap_or_default(),
    );

    let handled = AssertUnwindSafe(next.run(request)).catch_unwind();
    let outcome = if too_large {
        Ok(Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response()))
    } else {
        tokio::time::timeout(edge.timeout, handled)
            .instrument(span.clone())
            .await
    };
    let mut response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(panic)) => span.in_scope(|| problems::panic_response(panic)),
        Err(_) => {
            span.in_scope(|| {
                tracing::warn!(timeout_secs = edge.timeout.as_secs(), "request timed out")
            });
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    };
    if response.status().as_u16() >= 400 {
        response = problems::into_problem(response, edge.problems, &method, &uri, &request_id)
            .instrument(span)
            .await;
    }

    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str());
    edge.metrics
        .observe(&method, route, response.status(), start.elapsed());
    let headers = response.headers_mut();
    for (name, value) in DEFAULT_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    headers.insert(X_REQUEST_ID, request_id);
    response
}

fn is_acceptable_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID && bytes.iter().all(|b| b.is_ascii_graphic())
}
