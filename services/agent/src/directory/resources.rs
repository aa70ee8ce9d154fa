//! Admiralty's two resources as the agent reads them: `Kubeconfig` and
//! `TrustedIdentityProvider` (`multicluster.admiralty.io/v1alpha1`, namespaced), watched as
//! dynamic objects (so that the agent needs no generated types) and their specs read leniently:
//! a field of the wrong type is a refusal in status, never a failure of the watch.

use std::sync::Arc;

use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{store::Writer, Store};
use kube::{Api, Client, ResourceExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::k8s::watches::{reflect_into, trim_meta, Progress};

/// The API group of Admiralty's resources.
pub const GROUP: &str = "multicluster.admiralty.io";
/// Their version.
pub const VERSION: &str = "v1alpha1";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// `kubeconfigs.multicluster.admiralty.io`.
pub fn kubeconfigs() -> ApiResource {
    resource("Kubeconfig", "kubeconfigs")
}

/// `trustedidentityproviders.multicluster.admiralty.io`.
pub fn trusted_identity_providers() -> ApiResource {
    resource("TrustedIdentityProvider", "trustedidentityproviders")
}

/// The watched resources, and what wakes their reader.
#[derive(Clone)]
pub struct Watched {
    /// Every Kubeconfig.
    pub kubeconfigs: Store<DynamicObject>,
    /// Every TrustedIdentityProvider.
    pub providers: Store<DynamicObject>,
    /// Notified on every change of either.
    pub changed: Arc<Notify>,
    /// How far either watch has come.
    pub progress: Progress,
}

impl Watched {
    /// Starts watching both kinds cluster-wide.
    pub fn start(client: &Client) -> Self {
        let changed = Arc::new(Notify::new());
        let progress = Progress::default();
        let watch = |resource: ApiResource, kind: &'static str| {
            let writer = Writer::new(resource.clone());
            let store = writer.as_reader();
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            reflect_into(api, writer, kind, trim_meta, Some(&changed), &progress);
            store
        };
        Watched {
            kubeconfigs: watch(kubeconfigs(), "kubeconfigs"),
            providers: watch(trusted_identity_providers(), "trustedidentityproviders"),
            changed: Arc::clone(&changed),
            progress,
        }
    }

    /// What is wrong with the watches now, if anything (a missing CRD shows here).
    pub fn problem(&self) -> Option<String> {
        self.progress.problem()
    }
}

/// `spec.cluster.admiraltyReference` or `spec.admiraltyReference`: a cluster of an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmiraltyReference {
    /// The cluster's name.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// Its account; this agent's account when absent.
    #[serde(default)]
    pub account_name: Option<String>,
}

/// A Kubeconfig's `spec.cluster`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// An API server URL, given inline.
    #[serde(default)]
    pub server: Option<String>,
    /// Its CA (base64 PEM), given inline.
    #[serde(default)]
    pub certificate_authority_data: Option<String>,
    /// The cluster Flotilla resolves.
    #[serde(default)]
    pub admiralty_reference: Option<AdmiraltyReference>,
}

/// A Kubeconfig's `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeconfigSpec {
    /// The Secret (same namespace) that gets the kubeconfig, key `config`.
    #[serde(default)]
    pub secret_name: Option<String>,
    /// The service account whose SPIFFE ID the client certificate carries (`default`).
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// The cluster to reach.
    #[serde(default)]
    pub cluster: Option<ClusterSpec>,
}

/// A TrustedIdentityProvider's `spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// The SPIFFE ID prefix it trusts, `spiffe://<cluster>/`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Its CAs (base64 PEM), given inline.
    #[serde(default)]
    pub certificate_authority_data: Option<String>,
    /// The cluster Flotilla resolves.
    #[serde(default)]
    pub admiralty_reference: Option<AdmiraltyReference>,
}

/// One watched object: where it is, its spec (or why it cannot be read), and its status now.
#[derive(Debug, Clone)]
pub struct Object<S> {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid (for owner references), when the API server gave one.
    pub uid: Option<String>,
    /// Its generation.
    pub generation: Option<i64>,
    /// Its spec, or what is wrong with it.
    pub spec: Result<S, String>,
    /// Its status as it is now.
    pub status: Value,
}

impl<S: for<'de> Deserialize<'de>> Object<S> {
    /// Reads `object`'s spec as `S`.
    pub fn read(object: &DynamicObject) -> Self {
        let spec = match object.data.get("spec") {
            None | Some(Value::Null) => Err("it has no spec".to_owned()),
            Some(spec) => serde_json::from_value(spec.clone())
                .map_err(|e| format!("its spec cannot be read: {e}")),
        };
        Object {
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
            uid: object.uid(),
            generation: object.metadata.generation,
            spec,
            status: object.data.get("status").cloned().unwrap_or(Value::Null),
        }
    }
}
