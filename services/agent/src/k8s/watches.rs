//! Reflectors of the objects the agent reads, cluster-wide: Ingresses, Services,
//! EndpointSlices (is a backend ready?) and Nodes (the region, and the heartbeat's figures).
//! Each keeps an in-memory store that kube-rs fills from a LIST and keeps current with a
//! WATCH (re-listing after any gap), and every event wakes the endpoint reporter. Fields the
//! agent never reads are dropped as objects arrive, to keep its memory small. [`Progress`]
//! says which watch has had its first complete list and which fails, for readiness and for
//! the tasks that wait for the lists.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::{watch, Notify};

/// The nodes' label naming their region.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

const INGRESSES: &str = "ingresses";
const SERVICES: &str = "services";
const ENDPOINT_SLICES: &str = "endpointslices";
const NODES: &str = "nodes";
/// Every kind [`Watches`] reflects.
const KINDS: [&str; 4] = [INGRESSES, SERVICES, ENDPOINT_SLICES, NODES];

/// The stores, and what wakes their readers.
#[derive(Clone)]
pub struct Watches {
    /// Every Ingress.
    pub ingresses: Store<Ingress>,
    /// Every Service.
    pub services: Store<Service>,
    /// Every EndpointSlice.
    pub slices: Store<EndpointSlice>,
    /// Every Node.
    pub nodes: Store<Node>,
    /// Notified on every change of Ingresses, Services and EndpointSlices.
    pub changed: Arc<Notify>,
    progress: Progress,
}

impl Watches {
    /// Starts the four reflectors.
    pub fn start(client: &Client) -> Watches {
        let changed = Arc::new(Notify::new());
        let progress = Progress::default();
        let ingresses = reflect(client, INGRESSES, trim_ingress, Some(&changed), &progress);
        let services = reflect(client, SERVICES, trim_service, Some(&changed), &progress);
        let slices = reflect(
            client,
            ENDPOINT_SLICES,
            trim_slice,
            Some(&changed),
            &progress,
        );
        let nodes = reflect(client, NODES, trim_node, None, &progress);
        Watches {
            ingresses,
            services,
            slices,
            nodes,
            changed,
            progress,
        }
    }

    /// Waits until every store holds its first complete list.
    pub async fn ready(&self) {
        self.progress.listed(&KINDS).await;
    }

    /// Whether every store holds its first complete list.
    pub fn synced(&self) -> bool {
        self.progress.unlisted(&KINDS).is_empty()
    }

    /// Waits until the store of nodes holds its first complete list.
    pub async fn nodes_ready(&self) {
        self.progress.listed(&[NODES]).await;
    }

    /// Why the watches do not serve yet, if they do not: a failing list or watch, or the kinds
    /// still waiting for their first complete list.
    pub fn problem(&self) -> Option<String> {
        let unlisted = self.progress.unlisted(&KINDS);
        let waiting = (!unlisted.is_empty())
            .then(|| format!("the watches of {} have not synced yet", unlisted.join(", ")));
        match (self.progress.problem(), waiting) {
            (Some(failing), Some(waiting)) => Some(format!("{failing}; {waiting}")),
            (failing, waiting) => failing.or(waiting),
        }
    }

    /// The region most nodes carry in `topology.kubernetes.io/region`.
    pub fn region(&self) -> Option<String> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for node in self.nodes.state() {
            if let Some(region) = node.labels().get(REGION_LABEL) {
                *counts.entry(region.clone()).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(region, _)| region)
    }

    /// How many nodes there are, and how many are Ready.
    pub fn node_counts(&self) -> (usize, usize) {
        let nodes = self.nodes.state();
        let ready = nodes
            .iter()
            .filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        (nodes.len(), ready)
    }
}

/// How far each watch has come, by kind: whether it has had its first complete list, and what
/// fails now.
///
/// Any number of tasks may wait here for the lists. kube-runtime's `Store::wait_until_ready`
/// cannot serve several: all clones of a store share one oneshot receiver, which keeps the
/// waker of the task that polled it last only, so that any other task waiting then sleeps
/// for ever. The agent has three such waiters (readiness, registration, the reporter), and
/// a standby replica whose lists answered after it had found its cluster known stayed
/// unready with every watch running.
#[derive(Clone, Default)]
pub struct Progress {
    listed: watch::Sender<BTreeSet<&'static str>>,
    problems: Arc<Mutex<BTreeMap<&'static str, String>>>,
}

impl Progress {
    /// Waits until the watch of each of `kinds` has had its first complete list.
    pub async fn listed(&self, kinds: &[&'static str]) {
        let mut listed = self.listed.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = listed
            .wait_for(|done| kinds.iter().all(|kind| done.contains(kind)))
            .await;
    }

    /// Those of `kinds` whose watch has not had its first complete list yet.
    pub fn unlisted(&self, kinds: &[&'static str]) -> Vec<&'static str> {
        let done = self.listed.borrow();
        kinds
            .iter()
            .copied()
            .filter(|kind| !done.contains(kind))
            .collect()
    }

    /// The failing watches in words, if any fails.
    pub fn problem(&self) -> Option<String> {
        let problems = self.problems.lock().ok()?;
        (!problems.is_empty()).then(|| {
            problems
                .iter()
                .map(|(kind, why)| format!("watching {kind}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn list_done(&self, kind: &'static str) {
        self.listed.send_if_modified(|done| done.insert(kind));
    }

    fn succeeded(&self, kind: &'static str) {
        if let Ok(mut problems) = self.problems.lock() {
            problems.remove(kind);
        }
    }

    fn failed(&self, kind: &'static str, why: String) {
        if let Ok(mut problems) = self.problems.lock() {
            problems.insert(kind, why);
        }
    }
}

/// Runs a reflector of every `K` in the cluster, trimming each object with `trim`, and
/// notifying `changed` of every change; returns its store.
fn reflect<K>(
    client: &Client,
    kind: &'static str,
    trim: fn(&mut K),
    changed: Option<&Arc<Notify>>,
    progress: &Progress,
) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    reflect_into(
        Api::all(client.clone()),
        writer,
        kind,
        trim,
        changed,
        progress,
    );
    reader
}

/// Runs a reflector of `api` into `writer` (any kind, typed or dynamic), trimming each object
/// with `trim`, notifying `changed` of every change, and keeping `progress` of `kind` current.
pub fn reflect_into<K>(
    api: Api<K>,
    writer: Writer<K>,
    kind: &'static str,
    trim: fn(&mut K),
    changed: Option<&Arc<Notify>>,
    progress: &Progress,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Clone + Eq + std::hash::Hash + Send + Sync,
{
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(trim)
        .reflect(writer);
    let changed = changed.cloned();
    let progress = progress.clone();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    progress.succeeded(kind);
                    // `reflect` has applied the event to the store already: it holds the list.
                    if matches!(event, watcher::Event::InitDone) {
                        progress.list_done(kind);
                    }
                    let settled = matches!(
                        event,
                        watcher::Event::Apply(_)
                            | watcher::Event::Delete(_)
                            | watcher::Event::InitDone
                    );
                    if let (true, Some(changed)) = (settled, &changed) {
                        changed.notify_one();
                    }
                }
                Err(e) => {
                    tracing::warn!(kind, error = %e, "watching Kubernetes failed; retrying with backoff");
                    progress.failed(kind, e.to_string());
                }
            }
        }
    });
}

/// Drops what no decision reads from any object: managed fields and the last applied
/// configuration, often the largest parts.
pub fn trim_meta<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

fn trim_ingress(ingress: &mut Ingress) {
    trim_meta(ingress);
}

fn trim_service(service: &mut Service) {
    trim_meta(service);
    if let Some(spec) = service.spec.as_mut() {
        spec.ports = None;
        spec.selector = None;
        spec.cluster_ips = None;
    }
}

fn trim_slice(slice: &mut EndpointSlice) {
    trim_meta(slice);
    slice.ports = None;
    for endpoint in &mut slice.endpoints {
        endpoint.addresses.clear();
        endpoint.target_ref = None;
        endpoint.hints = None;
    }
}

fn trim_node(node: &mut Node) {
    trim_meta(node);
    node.spec = None;
    if let Some(status) = node.status.as_mut() {
        status.images = None;
        status.node_info = None;
        status.volumes_attached = None;
        status.volumes_in_use = None;
        status.addresses = None;
        status.capacity = None;
        status.allocatable = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn watches(progress: &Progress) -> Watches {
        Watches {
            ingresses: reflector::store().0,
            services: reflector::store().0,
            slices: reflector::store().0,
            nodes: reflector::store().0,
            changed: Arc::new(Notify::new()),
            progress: progress.clone(),
        }
    }

    #[tokio::test]
    async fn every_task_waiting_for_the_lists_wakes_when_they_are_in() {
        let progress = Progress::default();
        let watches = watches(&progress);
        let waiting: Vec<_> = (0..3)
            .map(|i| {
                let watches = watches.clone();
                tokio::spawn(async move {
                    if i == 0 {
                        watches.nodes_ready().await;
                    }
                    watches.ready().await;
                })
            })
            .collect();
        // Every waiter is parked before the first list comes in, and again before the last.
        tokio::time::sleep(Duration::from_millis(20)).await;
        for kind in KINDS {
            progress.list_done(kind);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for (i, waiter) in waiting.into_iter().enumerate() {
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .unwrap_or_else(|_| panic!("waiter {i} was never woken"))
                .expect("the waiter ends");
        }
    }

    #[test]
    fn readiness_names_the_watches_not_synced_and_the_failing_ones() {
        let progress = Progress::default();
        let watches = watches(&progress);
        assert_eq!(
            watches.problem().as_deref(),
            Some("the watches of ingresses, services, endpointslices, nodes have not synced yet")
        );
        for kind in [INGRESSES, SERVICES, ENDPOINT_SLICES] {
            progress.list_done(kind);
        }
        progress.failed(NODES, "forbidden".into());
        assert!(!watches.synced());
        assert_eq!(
            watches.problem().as_deref(),
            Some("watching nodes: forbidden; the watches of nodes have not synced yet")
        );
        progress.succeeded(NODES);
        progress.list_done(NODES);
        assert!(watches.synced());
        assert_eq!(watches.problem(), None);
        progress.failed(SERVICES, "gone".into());
        assert_eq!(
            watches.problem().as_deref(),
            Some("watching services: gone")
        );
    }
}
