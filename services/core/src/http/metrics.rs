//! Prometheus metrics: requests timed by method, matched route and status (the histogram's
//! `_count` series is the request count); the database pool's figures, read at scrape time.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use sqlx::PgPool;
use tower::{Layer, Service};

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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    from: &'static str,
    to: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailoverLabels {
    failover: bool,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The process's metrics registry and the handles the middleware updates.
pub struct Metrics {
    registry: Registry,
    durations: HistogramFamily,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    clusters: Family<StatusLabels, Gauge>,
    cluster_transitions: Family<TransitionLabels, Counter>,
    /// Bundle-map long-polls waiting now (public: the handler moves it).
    pub long_polls: Gauge,
    /// Directory snapshots loaded from the database.
    pub directory_loads: Counter,
    dns_changes: Family<StatusLabels, Counter>,
    dns_change_seconds: Family<FailoverLabels, Histogram, fn() -> Histogram>,
    dns_requests: Family<OutcomeLabels, Counter>,
    /// DNS changes of the zone this replica works that are waiting or in flight.
    pub dns_pending: Gauge,
    /// Hosts of the zone this replica works whose changes are quarantined.
    pub dns_quarantined_hosts: Gauge,
    /// When the current token-signing key was made (Unix seconds; 0 until known).
    pub signing_key_created: Gauge,
    /// 1 when this replica is ready (started, and the database answers), 0 otherwise.
    pub ready: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn duration_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// A registry with Flotilla's HTTP and pool metrics.
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
        let clusters = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "clusters",
            "Registered clusters by status, from the database (every replica reports the same figure)",
            clusters.clone(),
        );
        let cluster_transitions = Family::<TransitionLabels, Counter>::default();
        registry.register(
            "cluster_status_transitions",
            "Cluster status transitions this replica recorded",
            cluster_transitions.clone(),
        );
        let long_polls = Gauge::default();
        registry.register(
            "directory_long_polls",
            "Bundle-map long-polls this replica holds now",
            long_polls.clone(),
        );
        let directory_loads = Counter::default();
        registry.register(
            "directory_snapshot_loads",
            "Account directories this replica loaded from the database (one per change per account read)",
            directory_loads.clone(),
        );
        let dns_changes = Family::<StatusLabels, Counter>::default();
        registry.register(
            "dns_changes",
            "DNS changes this replica closed, by final status (applied, failed, quarantined)",
            dns_changes.clone(),
        );
        let dns_change_seconds =
            Family::<FailoverLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "dns_change_seconds",
            "Time from learning of a DNS change (an endpoint report, a cluster leaving ready) to the provider acknowledging it",
            dns_change_seconds.clone(),
        );
        let dns_requests = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "dns_provider_requests",
            "Change requests this replica sent to the DNS provider, by outcome (ok, refused, throttled, unavailable, unknown)",
            dns_requests.clone(),
        );
        let dns_pending = Gauge::default();
        registry.register(
            "dns_pending_changes",
            "DNS changes waiting or in flight in the zone this replica works (0 on the other replicas)",
            dns_pending.clone(),
        );
        let dns_quarantined_hosts = Gauge::default();
        registry.register(
            "dns_quarantined_hosts",
            "Hosts whose DNS changes are quarantined, in the zone this replica works (0 on the other replicas)",
            dns_quarantined_hosts.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when this replica is ready (start-up done and the database reachable), as /readyz says, 0 otherwise",
            ready.clone(),
        );
        let signing_key_created = Gauge::default();
        registry.register(
            "signing_key_created_timestamp_seconds",
            "When the current token-signing key was made, in Unix seconds (alert when rotation stops: it should be younger than FLOTILLA_SIGNING_KEY_ROTATION_DAYS)",
            signing_key_created.clone(),
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
            registry,
            dns_changes,
            dns_change_seconds,
            dns_requests,
            dns_pending,
            dns_quarantined_hosts,
            signing_key_created,
            ready,
            durations,
            pool_connections,
            pool_max,
            clusters,
            cluster_transitions,
            long_polls,
            directory_loads,
        }
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

    /// Sets the number of clusters with `status`.
    pub fn set_clusters(&self, status: &'static str, count: i64) {
        self.clusters
            .get_or_create(&StatusLabels { status })
            .set(count);
    }

    /// Counts a cluster's status transition.
    pub fn count_transition(&self, from: &'static str, to: &'static str) {
        self.cluster_transitions
            .get_or_create(&TransitionLabels { from, to })
            .inc();
    }

    /// Counts `n` DNS changes closed with `status`.
    pub fn count_dns_changes(&self, status: &'static str, n: usize) {
        self.dns_changes
            .get_or_create(&StatusLabels { status })
            .inc_by(n as u64);
    }

    /// Times one DNS change, from learning of it to the provider's acknowledgement.
    pub fn observe_dns_change(&self, failover: bool, elapsed: std::time::Duration) {
        self.dns_change_seconds
            .get_or_create(&FailoverLabels { failover })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one change request sent to the DNS provider, by `outcome`.
    pub fn count_dns_request(&self, outcome: &'static str) {
        self.dns_requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
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
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
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
