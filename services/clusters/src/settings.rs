//! The clusters service's settings: the heartbeat thresholds that give clusters their status.
//! A part of the server's command line, validated at start-up with the rest.

use flotilla_core::config::{clap, parse_recovery, parse_timeout, ConfigError, Seconds};

/// The clusters service's settings, flattened into the server's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterSettings {
    /// Seconds without a heartbeat after which a cluster is `stale` and its endpoints leave DNS
    /// (1-3600). The default, 8, lets a heartbeat of the agent's default 5 s interval be almost
    /// 3 s late, and keeps a dead cluster's addresses out of DNS within 10 s.
    #[arg(long, env = "FLOTILLA_CLUSTER_STALE_AFTER", default_value = "8", value_parser = parse_timeout)]
    pub cluster_stale_after: Seconds,

    /// Seconds a stale cluster's heartbeats must keep arriving, without a gap of the stale
    /// threshold, before it is `ready` again and its endpoints return to DNS (0-3600; 0: at its
    /// first heartbeat). Damps a cluster whose heartbeats come and go: it leaves DNS once rather
    /// than at every late beat. A cluster back from `offline`, or new, is ready at its first.
    #[arg(long, env = "FLOTILLA_CLUSTER_RECOVER_AFTER", default_value = "4", value_parser = parse_recovery)]
    pub cluster_recover_after: Seconds,

    /// Seconds without a heartbeat after which a cluster is `offline` (1-3600; more than the
    /// stale threshold).
    #[arg(long, env = "FLOTILLA_CLUSTER_OFFLINE_AFTER", default_value = "300", value_parser = parse_timeout)]
    pub cluster_offline_after: Seconds,
}

impl ClusterSettings {
    /// Checks that a cluster turns stale before it turns offline. Run once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cluster_offline_after.0 <= self.cluster_stale_after.0 {
            return Err(ConfigError::new(format!(
                "FLOTILLA_CLUSTER_OFFLINE_AFTER (--cluster-offline-after) must be more than \
                 FLOTILLA_CLUSTER_STALE_AFTER (--cluster-stale-after): {} s is not more than {} s",
                self.cluster_offline_after.0.as_secs(),
                self.cluster_stale_after.0.as_secs()
            )));
        }
        Ok(())
    }
}
