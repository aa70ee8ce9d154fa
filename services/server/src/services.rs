//! Each service's own state, built once from its settings by the server and handed to its
//! routes (an `Extension` layer) and its background work.

use std::sync::Arc;

use anyhow::Context;

use flotilla_accounts::Accounts;
use flotilla_clusters::Clusters;
use flotilla_core::AppContext;
use flotilla_directory::Directory;
use flotilla_dns::Dns;

use crate::settings::Settings;

/// The services' states.
#[derive(Clone)]
pub struct Services {
    /// The accounts service's: the signer, the upstream providers, the rate limits.
    pub accounts: Arc<Accounts>,
    /// The clusters service's: the heartbeat thresholds.
    pub clusters: Arc<Clusters>,
    /// The directory service's: the refresh hint and the cache of directories.
    pub directory: Arc<Directory>,
    /// The DNS service's: the provider's settings.
    pub dns: Arc<Dns>,
}

impl Services {
    /// The states of `settings`, their metrics registered in `ctx`'s registry. Every
    /// service's, also those this process does not run: their metrics are exposed all the
    /// same (at zero), so that every replica shows the same series.
    pub fn new(settings: &Settings, ctx: &AppContext) -> anyhow::Result<Self> {
        let metrics = &ctx.metrics;
        Ok(Self {
            accounts: Accounts::new(&ctx.config, &settings.accounts, metrics)
                .context("setting up the accounts service")?,
            clusters: Clusters::new(settings.clusters.clone(), metrics),
            directory: Directory::new(settings.directory.clone(), metrics),
            dns: Dns::new(settings.dns.clone(), metrics),
        })
    }
}
