//! Reflectors of the objects the agent reads, cluster-wide: Ingresses, Services,
//! EndpointSlices (is a backend ready?) and Nodes (the region, and the heartbeat's figures).
//! Each keeps an in-memory store that kube-rs fills from a LIST and keeps current with a
//! WATCH (re-listing after any gap), and every event wakes the endpoint reporter. Fields the
//! agent never reads are dropped as objects arrive, to keep its memory small.

use std::collections::BTreeMap;
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
use tokio::sync::Notify;

/// The nodes' label naming their region.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

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
    problems: Problems,
}

impl Watches {
    /// Starts the four reflectors.
    pub fn start(client: &Client) -> Watches {
        let changed = Arc::new(Notify::new());
        let problems = Arc::new(Mutex::new(BTreeMap::new()));
        let ingresses = reflect(client, "ingresses", trim_ingress, Some(&changed), &problems);
        let services = reflect(client, "services", trim_service, Some(&changed), &problems);
        let slices = reflect(
            client,
            "endpointslices",
            trim_slice,
            Some(&changed),
            &problems,
        );
        let nodes = reflect(client, "nodes", trim_node, None, &problems);
        Watches {
            ingresses,
            services,
            slices,
            nodes,
            changed,
            problems,
        }
    }

    /// Waits until every store holds its first complete list.
    pub async fn ready(&self) {
        let _ = tokio::join!(
            self.ingresses.wait_until_ready(),
            self.services.wait_until_ready(),
            self.slices.wait_until_ready(),
            self.nodes.wait_until_ready(),
        );
    }

    /// What is wrong with the watches now (a failing list or watch), if anything.
    pub fn problem(&self) -> Option<String> {
        describe_problems(&self.problems)
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

/// What is wrong with each failing watch, by kind.
pub type Problems = Arc<Mutex<BTreeMap<&'static str, String>>>;

/// The failing watches of `problems` in words, if any fails.
pub fn describe_problems(problems: &Problems) -> Option<String> {
    let problems = problems.lock().ok()?;
    (!problems.is_empty()).then(|| {
        problems
            .iter()
            .map(|(kind, why)| format!("watching {kind}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Runs a reflector of every `K` in the cluster, trimming each object with `trim`, and
/// notifying `changed` of every change; returns its store.
fn reflect<K>(
    client: &Client,
    kind: &'static str,
    trim: fn(&mut K),
    changed: Option<&Arc<Notify>>,
    problems: &Problems,
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
        problems,
    );
    reader
}

/// Runs a reflector of `api` into `writer` (any kind, typed or dynamic), trimming each object
/// with `trim`, notifying `changed` of every change, and keeping `problems[kind]` current.
pub fn reflect_into<K>(
    api: Api<K>,
    writer: Writer<K>,
    kind: &'static str,
    trim: fn(&mut K),
    changed: Option<&Arc<Notify>>,
    problems: &Problems,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Clone + Eq + std::hash::Hash + Send + Sync,
{
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(trim)
        .reflect(writer);
    let changed = changed.cloned();
    let problems = Arc::clone(problems);
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    if let Ok(mut p) = problems.lock() {
                        p.remove(kind);
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
                    if let Ok(mut p) = problems.lock() {
                        p.insert(kind, e.to_string());
                    }
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
