//! Prometheus metrics: requests timed by method, matched route and status (the histogram's
//! `_count` series is the request count); the database pool's figures, read at scrape time;
//! readiness and the build. Each service registers its own metrics beside its code
//! ([`Metrics::register_service`]), in a sub-registry named after it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use sqlx::PgPool;
use tower::{Layer, Service};

/// The prometheus_client the services register their metrics with: its registry is
/// [`Metrics`]'s, so it must be the same version, reached through core, which every service
/// already depends on.
pub use prometheus_client;

/// Labels of the request metrics. `route` is the matched route template (`/api/v1/accounts/{account}`),
/// or `unmatched`, so random paths cannot blow up the number of series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: Cow<'static, str>,
    route: Cow<'static, str>,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The process's metrics registry and the handles the middleware updates.
pub struct Metrics {
    /// Locked to register a service's metrics (once, at start-up) and to render them (at a
    /// scrape, every few seconds at most): the services register theirs once their state is
    /// built from settings that only the server knows, after the shared state exists.
    registry: Mutex<Registry>,
    durations: HistogramFamily,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    /// 1 when this replica is ready (started, and the database answers), 0 otherwise.
    pub ready: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Durations from 0.5 ms to ~16 s: the buckets of the request times, which services timing
/// their own work use too.
pub fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// A registry with Flotilla's HTTP, pool, readiness and build metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("flotilla");
        let durations = HistogramFamily::new_with_constructor(duration_histogram);
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let pool_max = Gauge::default();
        // One family, not a counter beside it: `_count` counts requests, and every request
        // then costs one label lookup instead of two.
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests (its _count is the number of requests)",
            durations.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Postgres pool connections by state",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Largest size of the Postgres pool",
            pool_max.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when this replica is ready (start-up done and the database reachable), as /readyz says, 0 otherwise",
            ready.clone(),
        );
        // Which build answers: the version, and the commit when the build was given one
        // (`FLOTILLA_COMMIT` at compile time, as the Dockerfile does).
        registry.register(
            "build",
            "The running build (flotilla_build_info, always 1)",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                (
                    "commit",
                    option_env!("FLOTILLA_COMMIT").unwrap_or("unknown"),
                ),
            ]),
        );
        Self {
            registry: Mutex::new(registry),
            ready,
            durations,
            pool_connections,
            pool_max,
        }
    }

    /// Registers a service's metrics, named `flotilla_<prefix>_<name>`: `register` is given
    /// the service's sub-registry. Call once per service.
    pub fn register_service(&self, prefix: &str, register: impl FnOnce(&mut Registry)) {
        register(self.lock().sub_registry_with_prefix(prefix));
    }

    /// Registers metrics named `flotilla_<name>`, for a service whose metrics were named
    /// before services had sub-registries (see [`Metrics::register_service`]).
    pub fn register_unprefixed(&self, register: impl FnOnce(&mut Registry)) {
        register(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while registering leaves nothing half-written that rendering would mind.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts and times one answered request. `route` is the matched route template, if any.
    pub fn observe(
        &self,
        method: &axum::http::Method,
        route: Option<&str>,
        status: axum::http::StatusCode,
        elapsed: std::time::Duration,
    ) {
        let labels = RequestLabels {
            method: method_label(method),
            route: Cow::Borrowed(route.map_or("unmatched", intern_route)),
            status: status.as_u16(),
        };
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text of every metric, with the pool figures read now.
    pub fn render(&self, pool: &PgPool) -> String {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set((size - idle).max(0));
        self.pool_max
            .set(i64::from(pool.options().get_max_connections()));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.lock());
        out
    }
}

/// Where the route layer leaves the matched route for the envelope: routing happens inside
/// the router, after the envelope has seen the request, and the handler's future may never
/// finish (a timeout, a panic), so the route is handed over when routing is done.
#[derive(Debug, Clone, Default)]
pub struct RouteSlot(Arc<OnceLock<MatchedPath>>);

impl RouteSlot {
    /// The matched route template, once routing is done.
    pub fn route(&self) -> Option<&str> {
        self.0.get().map(MatchedPath::as_str)
    }
}

/// Route layer: fills the request's [`RouteSlot`] with the matched route.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExposeMatchedPathLayer;

impl<S> Layer<S> for ExposeMatchedPathLayer {
    type Service = ExposeMatchedPath<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ExposeMatchedPath { inner }
    }
}

/// See [`ExposeMatchedPathLayer`].
#[derive(Debug, Clone)]
pub struct ExposeMatchedPath<S> {
    inner: S,
}

impl<S> Service<Request> for ExposeMatchedPath<S>
where
    S: Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let extensions = request.extensions();
        if let (Some(slot), Some(matched)) = (
            extensions.get::<RouteSlot>(),
            extensions.get::<MatchedPath>(),
        ) {
            let _ = slot.0.set(matched.clone());
        }
        self.inner.call(request)
    }
}

/// Route templates as `&'static str`, so labelling a request allocates nothing. Only matched
/// templates are interned, and there are as many as there are routes, so this is bounded.
fn intern_route(route: &str) -> &'static str {
    static ROUTES: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());
    if let Some(known) = ROUTES.read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return known;
    }
    let mut routes = ROUTES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = routes.get(route) {
        return known;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(leaked);
    leaked
}

fn method_label(method: &axum::http::Method) -> Cow<'static, str> {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    let name = KNOWN.into_iter().find(|m| *m == method.as_str());
    Cow::Borrowed(name.unwrap_or("other"))
}
