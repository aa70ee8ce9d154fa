//! The clusters service's metrics: clusters by status and their transitions.

// In scope by this name for `EncodeLabelSet`'s derived code.
use flotilla_core::http::metrics::{prometheus_client, Metrics};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    from: &'static str,
    to: &'static str,
}

/// The handles the clusters service updates.
#[derive(Debug, Clone, Default)]
pub struct ClusterMetrics {
    clusters: Family<StatusLabels, Gauge>,
    transitions: Family<TransitionLabels, Counter>,
}

impl ClusterMetrics {
    /// The service's metrics, registered in `metrics`.
    pub fn registered(metrics: &Metrics) -> Self {
        let this = Self::default();
        // In the root registry, as `flotilla_clusters` and `flotilla_cluster_status_transitions`,
        // not in a `clusters` sub-registry: operators' alerts and the dashboard
        // (deploy/monitoring) use these names, and a sub-prefix would rename them.
        metrics.register_unprefixed(|registry| {
            registry.register(
                "clusters",
                "Registered clusters by status, from the database (every replica reports the same figure)",
                this.clusters.clone(),
            );
            registry.register(
                "cluster_status_transitions",
                "Cluster status transitions this replica recorded",
                this.transitions.clone(),
            );
        });
        this
    }

    /// Sets the number of clusters with `status`.
    pub fn set_clusters(&self, status: &'static str, count: i64) {
        self.clusters
            .get_or_create(&StatusLabels { status })
            .set(count);
    }

    /// Counts a cluster's status transition.
    pub fn count_transition(&self, from: &'static str, to: &'static str) {
        self.transitions
            .get_or_create(&TransitionLabels { from, to })
            .inc();
    }
}
