//! The directory half of the agent: Admiralty's `Kubeconfig` and `TrustedIdentityProvider`
//! resolved in the cluster, as Admiralty Cloud's agent did. The leading replica follows the
//! account's bundle map (`bundles`), looks up the API servers the Kubeconfigs reference (one
//! request per referenced cluster when its bundle changes, not per resource), decides what
//! each resource gets (`kubeconfigs`, `trust`: pure), and writes it (`apply`): Secrets,
//! statuses and ConfigMaps, each only when it changes.

pub mod apply;
pub mod bundles;
pub mod kubeconfigs;
pub mod resolver;
pub mod resources;
pub mod status;
pub mod trust;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flotilla_client::directory::BundleMap;
use tokio::sync::watch;
use tokio::time::Instant;

use self::bundles::Known;
use self::resolver::Memory;
use self::resources::Watched;
use crate::flotilla::Flotilla;
use crate::identity::ca::IdentityCa;
use crate::observe::health::Condition;
use crate::run::Ctx;

/// What Flotilla's bundle map says of the account's clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct Trust {
    /// Each cluster's trust domain.
    pub clusters: BTreeMap<String, ClusterTrust>,
    /// The map as Flotilla serves it.
    pub map: BundleMap,
}

/// One cluster's trust domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTrust {
    /// Its bundle's sequence number: it rises whenever its CAs change.
    pub sequence: i64,
    /// The identity CAs it trusts now (DER).
    pub cas: Vec<Vec<u8>>,
}

/// Resolves the resources until the agent stops.
pub async fn run(ctx: Arc<Ctx>, flotilla: Flotilla, ca: Arc<IdentityCa>) {
    let watched = Watched::start(&ctx.kube);
    let (known_tx, mut known) = watch::channel(Known::default());
    tokio::spawn(bundles::follow(
        Arc::clone(&ctx),
        flotilla.clone(),
        known_tx,
    ));
    let mut stop = ctx.stop.clone();
    let mut leadership = ctx.leadership.clone();
    let resync = Duration::from_secs(ctx.config.resync_interval);
    let mut memory = Memory::default();
    loop {
        // Only the leader writes; either replica's watches can fail.
        let mut failed = Vec::new();
        if ctx.leadership.is_leader() {
            let started = Instant::now();
            let current = known.borrow_and_update().clone();
            failed = resolver::round(&ctx, &flotilla, &ca, &watched, &current, &mut memory).await;
            ctx.metrics.directory_round(started.elapsed().as_secs_f64());
        }
        match watched
            .problem()
            .or_else(|| (!failed.is_empty()).then(|| failed.join("; ")))
        {
            None => ctx.health.ok(Condition::Directory),
            Some(problem) => ctx.health.problem(Condition::Directory, problem),
        }
        tokio::select! {
            () = watched.changed.notified() => {}
            _ = known.changed() => {}
            () = tokio::time::sleep(resync) => {}
            () = leadership.changed() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
