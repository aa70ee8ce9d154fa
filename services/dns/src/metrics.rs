//! The DNS service's metrics, `flotilla_dns_*`: the reconciler's changes, their times, the
//! provider's answers and the backlog of the zone this replica works.

use flotilla_core::http::metrics::{duration_histogram, Metrics};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailoverLabels {
    failover: bool,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The handles the DNS service updates.
#[derive(Debug, Clone)]
pub struct DnsMetrics {
    changes: Family<StatusLabels, Counter>,
    change_seconds: Family<FailoverLabels, Histogram, fn() -> Histogram>,
    requests: Family<OutcomeLabels, Counter>,
    /// DNS changes of the zone this replica works that are waiting or in flight.
    pub pending: Gauge,
    /// Hosts of the zone this replica works whose changes are quarantined.
    pub quarantined_hosts: Gauge,
}

impl DnsMetrics {
    /// The service's metrics, registered in `metrics` (sub-registry `dns`).
    pub fn registered(metrics: &Metrics) -> Self {
        let this = Self {
            changes: Family::default(),
            change_seconds: Family::new_with_constructor(duration_histogram),
            requests: Family::default(),
            pending: Gauge::default(),
            quarantined_hosts: Gauge::default(),
        };
        metrics.register_service("dns", |registry| {
            registry.register(
                "changes",
                "DNS changes this replica closed, by final status (applied, failed, quarantined)",
                this.changes.clone(),
            );
            registry.register(
                "change_seconds",
                "Time from learning of a DNS change (an endpoint report, a cluster leaving ready) to the provider acknowledging it",
                this.change_seconds.clone(),
            );
            registry.register(
                "provider_requests",
                "Change requests this replica sent to the DNS provider, by outcome (ok, refused, throttled, unavailable, unknown)",
                this.requests.clone(),
            );
            registry.register(
                "pending_changes",
                "DNS changes waiting or in flight in the zone this replica works (0 on the other replicas)",
                this.pending.clone(),
            );
            registry.register(
                "quarantined_hosts",
                "Hosts whose DNS changes are quarantined, in the zone this replica works (0 on the other replicas)",
                this.quarantined_hosts.clone(),
            );
        });
        this
    }

    /// Counts `n` DNS changes closed with `status`.
    pub fn count_changes(&self, status: &'static str, n: usize) {
        self.changes
            .get_or_create(&StatusLabels { status })
            .inc_by(n as u64);
    }

    /// Times one DNS change, from learning of it to the provider's acknowledgement.
    pub fn observe_change(&self, failover: bool, elapsed: std::time::Duration) {
        self.change_seconds
            .get_or_create(&FailoverLabels { failover })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one change request sent to the DNS provider, by `outcome`.
    pub fn count_request(&self, outcome: &'static str) {
        self.requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}
