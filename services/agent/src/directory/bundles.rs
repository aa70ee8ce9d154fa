//! Following the account's SPIFFE bundle map with one long-poll (`?wait=`), while this replica
//! leads: Flotilla answers at once when any cluster of the account rotates its identity CA, has
//! an old one removed, is registered or deregistered, so every resource that depends on it is
//! updated within a second, without a request per resource.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flotilla_client::directory::BundleMapAnswer;
use tokio::sync::watch;

use super::{ClusterTrust, Trust};
use crate::backoff::{pause, Backoff};
use crate::flotilla::Flotilla;
use crate::run::Ctx;

/// How long one long-poll waits for a change before Flotilla answers "unchanged".
const WAIT: Duration = Duration::from_secs(60);

/// What the agent knows of the account's directory.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The bundle map as last read (`None` before the first answer).
    pub trust: Option<Arc<Trust>>,
    /// Why the last request failed, while it does.
    pub unreachable: Option<String>,
    /// How many times the map changed, and when it last did: a round that applies a change
    /// measures from then.
    pub changes: u64,
    /// When the map last changed.
    pub changed_at: Option<tokio::time::Instant>,
}

/// Follows the bundle map into `known` until the agent stops; long-polls only while leading.
pub async fn follow(ctx: Arc<Ctx>, flotilla: Flotilla, known: watch::Sender<Known>) {
    let mut stop = ctx.stop.clone();
    let mut leadership = ctx.leadership.clone();
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
    let mut etag: Option<String> = None;
    loop {
        if !ctx.leadership.is_leader() {
            etag = None;
            tokio::select! {
                () = leadership.changed() => continue,
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        // After a failure, ask at once (no wait): an answer, even "unchanged", says Flotilla
        // is back.
        let recovering = known.borrow().unreachable.is_some();
        let wait = (etag.is_some() && !recovering).then_some(WAIT);
        let answer = tokio::select! {
            answer = flotilla.bundle_map(etag.as_deref(), wait) => answer,
            () = leadership.changed() => continue,
            _ = stop.wait_for(|s| *s) => return,
        };
        match answer {
            Ok(BundleMapAnswer::Changed { map, etag: new }) => {
                backoff.reset();
                let clusters: BTreeMap<String, ClusterTrust> = map
                    .trust_domains
                    .iter()
                    .map(|(cluster, bundle)| {
                        (
                            cluster.clone(),
                            ClusterTrust {
                                sequence: bundle.spiffe_sequence,
                                cas: bundle.x509_authorities(),
                            },
                        )
                    })
                    .collect();
                tracing::info!(
                    clusters = clusters.len(),
                    "the account's bundle map changed"
                );
                etag = Some(new);
                known.send_modify(|k| {
                    k.trust = Some(Arc::new(Trust { clusters, map }));
                    k.unreachable = None;
                    k.changes += 1;
                    k.changed_at = Some(tokio::time::Instant::now());
                });
            }
            Ok(BundleMapAnswer::Unchanged) => {
                backoff.reset();
                if known.borrow().unreachable.is_some() {
                    known.send_modify(|k| k.unreachable = None);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the account's bundle map; retrying");
                let why = e.to_string();
                known.send_modify(|k| k.unreachable = Some(why));
                if !pause(backoff.next_delay(), &mut stop).await {
                    return;
                }
            }
        }
    }
}
