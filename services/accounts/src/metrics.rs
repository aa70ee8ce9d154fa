//! The accounts service's metrics, `flotilla_signing_key_*`.

use flotilla_core::http::metrics::prometheus_client::metrics::gauge::Gauge;
use flotilla_core::http::metrics::Metrics;

/// The handles the accounts service updates.
#[derive(Debug, Clone, Default)]
pub struct AccountsMetrics {
    /// When the current token-signing key was made (Unix seconds; 0 until known).
    pub signing_key_created: Gauge,
}

impl AccountsMetrics {
    /// The service's metrics, registered in `metrics` (sub-registry `signing_key`).
    pub fn registered(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register_service("signing_key", |registry| {
            registry.register(
                "created_timestamp_seconds",
                "When the current token-signing key was made, in Unix seconds (alert when rotation stops: it should be younger than FLOTILLA_SIGNING_KEY_ROTATION_DAYS)",
                this.signing_key_created.clone(),
            );
        });
        this
    }
}
