//! The directory service's metrics, `flotilla_directory_*`.

use flotilla_core::http::metrics::prometheus_client::metrics::counter::Counter;
use flotilla_core::http::metrics::prometheus_client::metrics::gauge::Gauge;
use flotilla_core::http::metrics::Metrics;

/// The handles the directory service updates.
#[derive(Debug, Clone, Default)]
pub struct DirectoryMetrics {
    /// Bundle-map long-polls waiting now.
    pub long_polls: Gauge,
    /// Directory snapshots loaded from the database.
    pub snapshot_loads: Counter,
}

impl DirectoryMetrics {
    /// The service's metrics, registered in `metrics` (sub-registry `directory`).
    pub fn registered(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register_service("directory", |registry| {
            registry.register(
                "long_polls",
                "Bundle-map long-polls this replica holds now",
                this.long_polls.clone(),
            );
            registry.register(
                "snapshot_loads",
                "Account directories this replica loaded from the database (one per change per account read)",
                this.snapshot_loads.clone(),
            );
        });
        this
    }
}
