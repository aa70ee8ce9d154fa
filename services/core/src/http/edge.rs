//! The envelope of every request, in one middleware: a request id, a tracing span, the
//! request timeout, panic catching, problem+json for every error, metrics, and the default
//! security headers. One tower service rather than a layer per concern (each router layer
//! costs a boxed service per request) or an axum `from_fn` middleware (which builds a boxed
//! `Next` per request): `bench/foundation.sh` measures what the envelope costs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tower::{Layer, Service};
use tracing::Instrument;

use super::client_addr::{ClientAddr, TrustedProxies};
use super::metrics::{Metrics, RouteSlot};
use super::problems::{self, Limits};
use crate::db::outage::{DatabaseAway, Outage};
use crate::problem::Problem;

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
    /// The body limit and the request timeout.
    pub limits: Limits,
    /// Where requests are counted.
    pub metrics: Arc<Metrics>,
    /// Whether the database is away: API requests are then answered 503 at once.
    pub outage: Arc<Outage>,
    /// Whose forwarding header tells the client's address.
    pub proxies: Arc<TrustedProxies>,
}

/// Layer of the [`Envelope`] service.
#[derive(Clone)]
pub struct EnvelopeLayer(pub Edge);

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Envelope<S> {
        Envelope {
            inner,
            edge: self.0.clone(),
        }
    }
}

/// Wraps each request of the inner service in the envelope.
#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    edge: Edge,
}

impl<S> Service<Request> for Envelope<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready handles this request; a clone stays for the next.
        let spare = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, spare);
        let edge = self.edge.clone();
        Box::pin(async move { Ok(envelope(edge, ready, request).await) })
    }
}

async fn envelope<S>(edge: Edge, mut inner: S, mut request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
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
    let too_large = declared_length.is_some_and(|len| len > edge.limits.body_limit);
    let method = request.method().clone();
    let uri = request.uri().clone();
    let (parts, body) = request.into_parts();
    let (body, body_arrived) = super::body_watch::watch(body);
    let mut request = Request::from_parts(parts, body);
    let route = RouteSlot::default();
    request.extensions_mut().insert(route.clone());
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| edge.proxies.client(peer.ip(), request.headers()));
    if let Some(client) = client {
        request.extensions_mut().insert(ClientAddr(client));
    }
    // Never the query: it may carry codes or tokens. Fields are recorded with Display: the
    // request id is printable ASCII (checked above) and an HTTP path holds no control
    // characters, so the escaping that Debug would do (char by char, per request) buys nothing.
    let span = tracing::info_span!(
        "request",
        method = %method.as_str(),
        path = %uri.path(),
        request_id = %request_id.to_str().unwrap_or_default(),
        client = tracing::field::Empty,
    );
    if let Some(client) = client {
        span.record("client", tracing::field::display(client));
    }

    let handle = async {
        let outcome = if too_large {
            Ok(Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response()))
        } else if let Some(detail) = super::request_uri::refusal(&uri) {
            Ok(Ok(
                Problem::for_status(StatusCode::BAD_REQUEST, detail).into_response()
            ))
        } else if edge.outage.is_away() && needs_database(uri.path()) {
            Ok(Ok(crate::error::database_away()))
        } else {
            let body_limit = usize::try_from(edge.limits.body_limit).unwrap_or(usize::MAX);
            let handled = async move {
                match super::json_body::checked(request, body_limit).await {
                    Ok(request) => inner.call(request).await.unwrap_or_else(|e| match e {}),
                    Err(refusal) => refusal,
                }
            };
            // Once started, a request runs to its end on a task of its own, even when its
            // client leaves or its time runs out: dropping it between two statements could
            // return a connection to the pool inside a transaction that nobody will finish
            // (sqlx cannot undo a `BEGIN` cancelled in flight), whose row locks then stall
            // every request touching those rows. A panic is caught by the task.
            let handled = tokio::spawn(handled.in_current_span()).map(|joined| {
                joined.map_err(|e| match e.try_into_panic() {
                    Ok(panic) => panic,
                    Err(e) => Box::new(e.to_string()) as Box<dyn std::any::Any + Send>,
                })
            });
            tokio::time::timeout(edge.limits.timeout + long_poll(&uri), handled).await
        };
        let response = match outcome {
            Ok(Ok(response)) => {
                if response.extensions().get::<DatabaseAway>().is_some() {
                    edge.outage.report();
                }
                response
            }
            Ok(Err(panic)) => problems::panic_response(panic),
            Err(_) if !body_arrived.is_whole() => {
                let timeout_secs = edge.limits.timeout.as_secs();
                tracing::debug!(timeout_secs, "request body incomplete at the timeout");
                let detail = format!(
                    "The request body did not arrive in full within {timeout_secs} s: fewer bytes \
                     came than its Content-Length announced, or its chunks stopped."
                );
                Problem::for_status(StatusCode::REQUEST_TIMEOUT, detail).into_response()
            }
            Err(_) => {
                let timeout_secs = edge.limits.timeout.as_secs();
                tracing::warn!(timeout_secs, "request timed out");
                StatusCode::GATEWAY_TIMEOUT.into_response()
            }
        };
        if response.status().as_u16() < 400
            || response
                .extensions()
                .get::<problems::KeepErrorBody>()
                .is_some()
        {
            return response;
        }
        // Boxed: the error path is rare, and inline its state would enlarge every request's
        // future (which is moved into its box on every request).
        Box::pin(problems::into_problem(
            response,
            edge.limits,
            &method,
            &uri,
            &request_id,
        ))
        .await
    };
    let mut response = handle.instrument(span).await;

    edge.metrics
        .observe(&method, route.route(), response.status(), start.elapsed());
    let headers = response.headers_mut();
    headers.reserve(DEFAULT_HEADERS.len() + 1);
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

/// Whether answering `path` needs the database: the API, the token endpoints, the SPIFFE
/// bundles and the token-signing keys. (Pages answer after the pool's acquire timeout, with
/// their own error page; the operations endpoints say what they know without it.)
pub fn needs_database(path: &str) -> bool {
    [
        "/api/",
        "/spiffe/",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/device_authorization",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
        || path == "/.well-known/jwks.json"
}

/// Longest wait a long-poll may ask for (`?wait=<seconds>`).
pub const MAX_LONG_POLL: Duration = Duration::from_secs(300);

/// The extra time a long-poll (`wait=<seconds>` in the query, at most [`MAX_LONG_POLL`])
/// may take beyond the request timeout: it is asked to wait that long. A malformed value adds
/// nothing; the handler refuses it.
fn long_poll(uri: &axum::http::Uri) -> Duration {
    uri.query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("wait="))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::ZERO, |secs| {
            Duration::from_secs(secs).min(MAX_LONG_POLL)
        })
}
