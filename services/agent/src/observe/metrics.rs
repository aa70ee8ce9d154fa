//! The agent's Prometheus metrics: calls to Flotilla that succeeded (by call) and failed (by
//! call and reason), the heartbeat's age, how long a change takes from the watch to
//! Flotilla's acknowledgement, whether this replica leads, and the endpoints reported.

use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    call: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    call: &'static str,
    reason: &'static str,
}

/// The agent's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    heartbeat_age: Gauge<f64, AtomicU64>,
    last_heartbeat: Mutex<Option<Instant>>,
    reconcile: Histogram,
    directory_writes: Family<KindLabels, Counter>,
    directory_rounds: Histogram,
    directory_changes: Histogram,
    directory_plans: Histogram,
    /// 1 while this replica leads.
    pub leader: Gauge,
    /// Endpoints Flotilla holds for the cluster, as last synchronised.
    pub endpoints: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "flotilla_agent_reports",
            "Calls to Flotilla that succeeded, by call (heartbeat, cluster, register, endpoints, replace, report, withdraw, bundles, kubeconfig)",
            calls.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "flotilla_agent_failures",
            "Calls to Flotilla that failed, by call and reason (unreachable, server, unauthorized, refused, invalid)",
            failures.clone(),
        );
        let heartbeat_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "flotilla_agent_heartbeat_age_seconds",
            "Seconds since Flotilla last acknowledged a heartbeat (-1 before the first)",
            heartbeat_age.clone(),
        );
        let reconcile = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "flotilla_agent_reconcile_seconds",
            "From a watched change (or a resync) to Flotilla acknowledging the endpoints",
            reconcile.clone(),
        );
        let directory_writes = Family::<KindLabels, Counter>::default();
        registry.register(
            "flotilla_agent_directory_writes",
            "Writes of the directory half to Kubernetes, by kind (secret, status, configmap)",
            directory_writes.clone(),
        );
        let directory_rounds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "flotilla_agent_directory_round_seconds",
            "One round of the directory half: every Kubeconfig and TrustedIdentityProvider decided and written",
            directory_rounds.clone(),
        );
        let directory_changes = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "flotilla_agent_directory_change_seconds",
            "From Flotilla's long-poll answering a change of the bundle map to every resource it affects written",
            directory_changes.clone(),
        );
        let directory_plans = Histogram::new(exponential_buckets(0.0005, 2.0, 12));
        registry.register(
            "flotilla_agent_directory_plan_seconds",
            "Reading and deciding every Kubeconfig and TrustedIdentityProvider in a round, without the writes or Flotilla's answers",
            directory_plans.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "flotilla_agent_leader",
            "1 while this replica holds the Lease",
            leader.clone(),
        );
        let endpoints = Gauge::default();
        registry.register(
            "flotilla_agent_endpoints",
            "Endpoints Flotilla holds for this cluster, as last synchronised",
            endpoints.clone(),
        );
        Metrics {
            registry,
            calls,
            failures,
            heartbeat_age,
            last_heartbeat: Mutex::new(None),
            reconcile,
            directory_writes,
            directory_rounds,
            directory_changes,
            directory_plans,
            leader,
            endpoints,
        }
    }
}

impl Metrics {
    /// A call to Flotilla succeeded.
    pub fn call(&self, call: &'static str) {
        self.calls.get_or_create(&CallLabels { call }).inc();
    }

    /// A call to Flotilla failed, for `reason`.
    pub fn failure(&self, call: &'static str, reason: &'static str) {
        self.failures
            .get_or_create(&FailureLabels { call, reason })
            .inc();
    }

    /// Flotilla acknowledged a heartbeat now.
    pub fn heartbeat(&self) {
        if let Ok(mut last) = self.last_heartbeat.lock() {
            *last = Some(Instant::now());
        }
    }

    /// A reconcile took `seconds`.
    pub fn reconciled(&self, seconds: f64) {
        self.reconcile.observe(seconds);
    }

    /// The directory half wrote one object of `kind`.
    pub fn directory_write(&self, kind: &'static str) {
        self.directory_writes
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// A round of the directory half took `seconds`.
    pub fn directory_round(&self, seconds: f64) {
        self.directory_rounds.observe(seconds);
    }

    /// A change of the bundle map was written everywhere `seconds` after Flotilla told it.
    pub fn directory_change(&self, seconds: f64) {
        self.directory_changes.observe(seconds);
    }

    /// Deciding a round of the directory half took `seconds`.
    pub fn directory_plan(&self, seconds: f64) {
        self.directory_plans.observe(seconds);
    }

    /// The metrics in OpenMetrics text.
    pub fn encode(&self) -> String {
        let age = self
            .last_heartbeat
            .lock()
            .ok()
            .and_then(|l| *l)
            .map_or(-1.0, |t| t.elapsed().as_secs_f64());
        self.heartbeat_age.set(age);
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
