//! Leader election through a `coordination.k8s.io` Lease, so that with two replicas one acts
//! (makes the CA, registers, reports endpoints) while the other stands by with warm caches.
//!
//! The holder renews the Lease every few seconds; another replica takes it once it has not
//! been renewed for its duration, and a stopping holder releases it at once. Every write is a
//! merge patch carrying the `resourceVersion` read before it: a real API server refuses it
//! with 409 when another replica wrote in between. Emulators that ignore that precondition
//! (kmock does) are covered by reading the Lease back after taking it: a replica leads only
//! once the Lease names it.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::watch;

use super::{describe, is_conflict, is_not_found};

/// The Lease's name.
pub const LEASE_NAME: &str = "flotilla-agent";

/// Whether this replica leads; changes as the Lease moves. Undecided (not leading) until the
/// elector's first try has an answer.
#[derive(Clone)]
pub struct Leadership {
    leading: watch::Receiver<Option<bool>>,
}

impl Leadership {
    /// Whether this replica leads now.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow() == Some(true)
    }

    /// Waits until the elector's first try has an answer, so that a replica starting while
    /// nobody holds the Lease acts as the leader from its first step.
    pub async fn decided(&self) {
        let mut leading = self.leading.clone();
        let _ = leading.wait_for(Option::is_some).await;
    }

    /// Takes the current leadership as seen: `changed` waits for the next change.
    pub fn mark_seen(&mut self) {
        self.leading.borrow_and_update();
    }

    /// Waits until leadership changes.
    pub async fn changed(&mut self) {
        if self.leading.changed().await.is_err() {
            // The elector stopped (shutdown): never wake again.
            std::future::pending::<()>().await;
        }
    }
}

/// The elector's settings.
pub struct Election {
    /// The Lease's namespace.
    pub namespace: String,
    /// This replica's identity in the Lease.
    pub identity: String,
    /// How long a Lease lasts without renewal.
    pub duration: Duration,
}

/// Starts electing; stops (releasing the Lease if held) when `stop` turns true.
pub fn spawn(client: Client, election: Election, mut stop: watch::Receiver<bool>) -> Leadership {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        let api: Api<Lease> = Api::namespaced(client, &election.namespace);
        // Retry (and renew) several times within a Lease's duration, as client-go does.
        let retry = (election.duration / 7).max(Duration::from_millis(500));
        let mut renewed_at: Option<tokio::time::Instant> = None;
        loop {
            let leading = match try_lead(&api, &election).await {
                Ok(leading) => {
                    renewed_at = leading.then(tokio::time::Instant::now);
                    leading
                }
                Err(e) => {
                    tracing::warn!(error = %describe(&e), lease = LEASE_NAME, "cannot read or renew the Lease; retrying");
                    // A leader that cannot renew steps down before its Lease can pass on.
                    renewed_at.is_some_and(|t| t.elapsed() < election.duration * 2 / 3)
                }
            };
            if *tx.borrow() != Some(leading) {
                tracing::info!(identity = %election.identity, leading, "leadership changed");
                let _ = tx.send(Some(leading));
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        if *tx.borrow() == Some(true) {
            let _ = tx.send(Some(false));
            match release(&api, &election.identity).await {
                Ok(()) => tracing::info!("released the Lease"),
                Err(e) => {
                    tracing::warn!(error = %describe(&e), "cannot release the Lease; the other replica takes it when it expires")
                }
            }
        }
    });
    Leadership { leading: rx }
}

/// One round: takes, renews or leaves the Lease; whether this replica leads.
async fn try_lead(api: &Api<Lease>, election: &Election) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    let lease = match api.get(LEASE_NAME).await {
        Ok(lease) => lease,
        Err(e) if is_not_found(&e) => return create(api, election, now).await,
        Err(e) => return Err(e),
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let version = lease.metadata.resource_version.clone();
    if holder == election.identity {
        let patch = json!({
            "metadata": {"resourceVersion": version},
            "spec": {"renewTime": MicroTime(now), "leaseDurationSeconds": seconds(election.duration)},
        });
        return match api
            .patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_conflict(&e) => Ok(false),
            Err(e) => Err(e),
        };
    }
    if !holder.is_empty() && !expired(&spec, now) {
        return Ok(false);
    }
    let patch = json!({
        "metadata": {"resourceVersion": version},
        "spec": {
            "holderIdentity": election.identity,
            "leaseDurationSeconds": seconds(election.duration),
            "acquireTime": MicroTime(now),
            "renewTime": MicroTime(now),
            "leaseTransitions": spec.lease_transitions.unwrap_or(0) + 1,
        },
    });
    match api
        .patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => holds(api, &election.identity).await,
        Err(e) if is_conflict(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn create(
    api: &Api<Lease>,
    election: &Election,
    now: Timestamp,
) -> Result<bool, kube::Error> {
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(LEASE_NAME.into()),
            namespace: Some(election.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(election.identity.clone()),
            lease_duration_seconds: Some(seconds(election.duration)),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        }),
    };
    match api.create(&PostParams::default(), &lease).await {
        Ok(_) => holds(api, &election.identity).await,
        // Another replica created it first.
        Err(e) if is_conflict(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the Lease names `identity` (read back after taking it).
async fn holds(api: &Api<Lease>, identity: &str) -> Result<bool, kube::Error> {
    let lease = api.get(LEASE_NAME).await?;
    Ok(lease
        .spec
        .and_then(|s| s.holder_identity)
        .is_some_and(|h| h == identity))
}

/// Gives the Lease up, so that the other replica takes it at its next try.
async fn release(api: &Api<Lease>, identity: &str) -> Result<(), kube::Error> {
    if !holds(api, identity).await? {
        return Ok(());
    }
    let patch = json!({"spec": {"holderIdentity": "", "leaseDurationSeconds": 1}});
    api.patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

/// Whether the Lease has gone unrenewed for its duration.
fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(15)));
    renewed.0 + duration < now
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_after_its_duration_from_the_last_renewal() {
        let now = Timestamp::now();
        let spec = |renewed_secs_ago: i64| LeaseSpec {
            holder_identity: Some("a".into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(now - SignedDuration::from_secs(renewed_secs_ago))),
            ..LeaseSpec::default()
        };
        assert!(!expired(&spec(10), now));
        assert!(expired(&spec(16), now));
        assert!(expired(&LeaseSpec::default(), now));
    }
}
