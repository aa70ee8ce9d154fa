//! Writing what the directory's plans say: the Kubeconfigs' Secrets (only those the agent
//! made: a Secret of that name made by anyone else is left alone and the status says so), the
//! resources' statuses (only when they change), and the ConfigMaps of trusted identities
//! (`config_maps.rs`).
//! Every write is a merge patch or a create; the agent never lists Secrets or ConfigMaps.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::ByteString;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::kubeconfigs::Server;
use super::resources::{kubeconfigs, GROUP, VERSION};
use crate::identity::ca::{pem_of, IdentityCa, Purpose};
use crate::k8s::{describe, is_conflict, is_not_found};

mod config_maps;
pub use config_maps::write_config_map;

/// The label on what the agent writes, by which it knows its own.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "flotilla-agent");
/// How long a Kubeconfig's client certificate is valid.
const CLIENT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A client certificate with less than this left is renewed.
const RENEW_BEFORE: Duration = Duration::from_secs(8 * 3600);
/// How long what the agent remembers of a Secret it wrote is trusted before the Secret is read
/// again (so that one deleted behind its back is rewritten within this).
const RECHECK: Duration = Duration::from_secs(3600);
/// The key of the kubeconfig in its Secret (Admiralty's).
const CONFIG_KEY: &str = "config";

/// What the agent wrote and knows to be its own, so that a round reads and writes only what
/// changed: an unchanged Secret or ConfigMap costs no request at all.
#[derive(Default)]
pub struct Written {
    secrets: Mutex<HashMap<(String, String), Held>>,
    maps: Mutex<HashMap<(String, String), BTreeMap<String, String>>>,
}

/// What one of the agent's Secrets holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    cluster: String,
    server: Server,
    user: String,
    expires: SystemTime,
    checked: tokio::time::Instant,
}

impl Written {
    fn secret(&self, key: &(String, String)) -> Option<Held> {
        self.secrets.lock().ok()?.get(key).cloned()
    }

    fn remember_secret(&self, key: (String, String), held: Option<Held>) {
        if let Ok(mut secrets) = self.secrets.lock() {
            match held {
                Some(held) => secrets.insert(key, held),
                None => secrets.remove(&key),
            };
        }
    }

    fn map(&self, key: &(String, String)) -> Option<BTreeMap<String, String>> {
        self.maps.lock().ok()?.get(key).cloned()
    }

    fn remember_map(&self, key: (String, String), data: Option<BTreeMap<String, String>>) {
        if let Ok(mut maps) = self.maps.lock() {
            match data {
                Some(data) => maps.insert(key, data),
                None => maps.remove(&key),
            };
        }
    }
}

/// A Kubeconfig's Secret, as it should be.
pub struct SecretWrite<'a> {
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The Kubeconfig that owns it, when its uid is known.
    pub owner: Option<OwnerReference>,
    /// The cluster it reaches.
    pub cluster: &'a str,
    /// That cluster's API server.
    pub server: &'a Server,
    /// The SPIFFE ID of its client certificate.
    pub user: &'a str,
}

/// What became of a Kubeconfig's Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOutcome {
    /// It holds the kubeconfig (written now, or already so); its client certificate expires
    /// then.
    Holds {
        /// When the client certificate expires.
        expires: SystemTime,
        /// Whether it was written now.
        written: bool,
    },
    /// A Secret of that name is not the agent's: left alone.
    NotOurs,
    /// Writing failed.
    Failed(String),
}

/// Makes the Secret hold its kubeconfig (with a client certificate from `ca`), unless it
/// already does with a certificate valid long enough, or it is not the agent's.
pub async fn write_secret(
    client: &Client,
    ca: &IdentityCa,
    written: &Written,
    want: SecretWrite<'_>,
) -> SecretOutcome {
    let SecretWrite {
        namespace,
        name,
        owner,
        cluster,
        server,
        user,
    } = want;
    let key = (namespace.to_owned(), name.to_owned());
    let now = SystemTime::now();
    if let Some(held) = written.secret(&key) {
        if held.cluster == cluster
            && &held.server == server
            && held.user == user
            && held.expires > now + RENEW_BEFORE
            && held.checked.elapsed() < RECHECK
        {
            return SecretOutcome::Holds {
                expires: held.expires,
                written: false,
            };
        }
    }
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let existing = match api.get(name).await {
        Ok(secret) => Some(secret),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return SecretOutcome::Failed(describe(&e)),
    };
    let remember = |expires| Held {
        cluster: cluster.to_owned(),
        server: server.clone(),
        user: user.to_owned(),
        expires,
        checked: tokio::time::Instant::now(),
    };
    if let Some(secret) = &existing {
        if !is_ours(&secret.metadata) {
            written.remember_secret(key, None);
            return SecretOutcome::NotOurs;
        }
        if let Some(expires) = still_good(secret, cluster, server, user) {
            written.remember_secret(key, Some(remember(expires)));
            return SecretOutcome::Holds {
                expires,
                written: false,
            };
        }
    }
    let leaf = match ca.issue_leaf(user, CLIENT_LIFETIME, Purpose::Client) {
        Ok(leaf) => leaf,
        Err(why) => return SecretOutcome::Failed(why),
    };
    let key_pem = rcgen::KeyPair::try_from(leaf.key_der.as_slice())
        .map(|k| k.serialize_pem())
        .unwrap_or_default();
    let config = kubeconfig(cluster, server, user, &pem_of(&leaf.der), &key_pem);
    let result = match existing {
        None => {
            let secret = Secret {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    labels: Some(BTreeMap::from([(
                        MANAGED_BY.0.to_owned(),
                        MANAGED_BY.1.to_owned(),
                    )])),
                    owner_references: owner.map(|o| vec![o]),
                    ..ObjectMeta::default()
                },
                type_: Some("Opaque".into()),
                data: Some(BTreeMap::from([(
                    CONFIG_KEY.to_owned(),
                    ByteString(config.into_bytes()),
                )])),
                ..Secret::default()
            };
            match api.create(&PostParams::default(), &secret).await {
                Err(e) if is_conflict(&e) => {
                    return SecretOutcome::Failed(
                        "the Secret appeared meanwhile; trying again".into(),
                    )
                }
                other => other.map(|_| ()),
            }
        }
        Some(_) => api
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {CONFIG_KEY: STANDARD.encode(&config)}})),
            )
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => {
            written.remember_secret(key, Some(remember(leaf.not_after)));
            SecretOutcome::Holds {
                expires: leaf.not_after,
                written: true,
            }
        }
        Err(e) => {
            written.remember_secret(key, None);
            SecretOutcome::Failed(describe(&e))
        }
    }
}

/// Removes the Secret `name` of `namespace` if it is the agent's; whether it did.
pub async fn remove_secret(
    client: &Client,
    written: &Written,
    namespace: &str,
    name: &str,
) -> Result<bool, String> {
    written.remember_secret((namespace.to_owned(), name.to_owned()), None);
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(secret) if is_ours(&secret.metadata) => api
            .delete(name, &Default::default())
            .await
            .map(|_| true)
            .map_err(|e| describe(&e)),
        Ok(_) => Ok(false),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(describe(&e)),
    }
}

fn is_ours(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY.0))
        .is_some_and(|v| v == MANAGED_BY.1)
}

/// When the client certificate of the agent's Secret expires, if the Secret holds exactly
/// this cluster, server, CA and user and the certificate has long enough left.
fn still_good(secret: &Secret, cluster: &str, server: &Server, user: &str) -> Option<SystemTime> {
    let data = secret.data.as_ref()?.get(CONFIG_KEY)?;
    let config: Value = serde_json::from_slice(&data.0).ok()?;
    let same = config["clusters"][0]["name"] == cluster
        && config["clusters"][0]["cluster"]["server"] == server.url.as_str()
        && config["clusters"][0]["cluster"]["certificate-authority-data"]
            == server.ca_data.as_str()
        && config["users"][0]["name"] == user;
    if !same {
        return None;
    }
    let pem = STANDARD
        .decode(config["users"][0]["user"]["client-certificate-data"].as_str()?)
        .ok()?;
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
    let (_, cert) = X509Certificate::from_der(&block.contents).ok()?;
    let expires = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(cert.validity().not_after.timestamp()).ok()?);
    (expires > SystemTime::now() + RENEW_BEFORE).then_some(expires)
}

/// A kubeconfig (JSON, which kubectl and client-go read as they read YAML).
fn kubeconfig(cluster: &str, server: &Server, user: &str, cert_pem: &str, key_pem: &str) -> String {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server.url,
            "certificate-authority-data": server.ca_data,
        }}],
        "users": [{"name": user, "user": {
            "client-certificate-data": STANDARD.encode(cert_pem),
            "client-key-data": STANDARD.encode(key_pem),
        }}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// The owner reference that makes a Kubeconfig's Secret go with it (Kubernetes' garbage
/// collector), when its uid is known.
pub fn owner(name: &str, uid: Option<&str>) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kubeconfigs().kind,
        name: name.to_owned(),
        uid: uid?.to_owned(),
        ..OwnerReference::default()
    })
}

/// Writes `status` on the object `name` of `namespace`.
pub async fn write_status(
    client: &Client,
    resource: &ApiResource,
    namespace: &str,
    name: &str,
    status: &Value,
) -> Result<(), String> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": status})),
    )
    .await
    .map(|_| ())
    .map_err(|e| describe(&e))
}
