//! This replica's cache of account directories. An entry is the snapshot of one version of
//! the account (see `flotilla_core::changes`): a change moves the version, and the next
//! request loads a new snapshot. Concurrent requests for the same version share one load,
//! so a change answered to thousands of waiting long-polls costs one query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use flotilla_core::{AppContext, Error};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::metrics::DirectoryMetrics;
use crate::settings::DirectorySettings;
use crate::snapshot::{self, Snapshot};

/// Accounts beyond which the cache is simply cleared (a bound on memory, not an eviction
/// policy: an account's snapshot is one query away).
const MAX_ACCOUNTS: usize = 10_000;

type Slot = Arc<OnceCell<Arc<Snapshot>>>;

/// Snapshots by account, each with the version it was loaded for.
#[derive(Default)]
pub struct Snapshots {
    entries: Mutex<HashMap<Uuid, (u64, Slot)>>,
}

impl Snapshots {
    /// The account's directory as of its current version, rendered with `settings`; a load is
    /// counted in `metrics`.
    pub async fn snapshot(
        &self,
        ctx: &AppContext,
        settings: &DirectorySettings,
        metrics: &DirectoryMetrics,
        account: Uuid,
    ) -> Result<Arc<Snapshot>, Error> {
        let version = ctx.changes.version(account);
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match entries.get(&account) {
                Some((v, slot)) if *v == version => slot.clone(),
                _ => {
                    if entries.len() >= MAX_ACCOUNTS {
                        entries.clear();
                    }
                    let slot = Slot::default();
                    entries.insert(account, (version, slot.clone()));
                    slot
                }
            }
        };
        // A failed load leaves the cell empty: the next request tries again.
        slot.get_or_try_init(|| async {
            metrics.snapshot_loads.inc();
            snapshot::load(ctx, settings, account).await.map(Arc::new)
        })
        .await
        .cloned()
    }
}
