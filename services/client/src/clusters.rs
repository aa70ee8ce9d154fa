//! Clusters: registration, reading, heartbeats, and the directory's lookups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Client, Error, DEREGISTER_CLUSTER, GET_CLUSTER, HEARTBEAT, KUBECONFIG, LIST_CLUSTERS,
    REGISTER_CLUSTER,
};

/// A cluster's registration: its public material only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct ClusterRegistration {
    /// The identity CA certificate (PEM, one certificate).
    pub identity_ca: String,
    /// URL of the cluster's Kubernetes API server.
    pub server: String,
    /// The CA that verifies the API server (PEM); the identity CA when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ca: Option<String>,
    /// Labels, e.g. `region`; when absent, the current labels stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The agent's version; when absent, the last reported one stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A new cluster.
    Created,
    /// Nothing changed.
    Unchanged,
    /// The server, its CA, labels or agent version changed.
    Updated,
    /// A new identity CA is current.
    Rotated,
}

/// The answer to a registration: what it did, and the cluster as it now is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Registered {
    /// What this request did.
    pub outcome: Outcome,
    /// The cluster as it now is.
    #[serde(flatten)]
    pub cluster: Cluster,
}

/// A cluster's status, from its heartbeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Heartbeats arrive: its endpoints are in DNS.
    Ready,
    /// Heartbeats missing for a few seconds, or not yet steady again.
    Stale,
    /// No heartbeat for long, or never.
    Offline,
}

/// What Flotilla shows of a certificate it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct CertificateInfo {
    /// SHA-256 fingerprint of the DER, lower-case hex.
    pub sha256: String,
    /// The subject name.
    pub subject: String,
    /// The key: `EC P-256`, `RSA 2048-bit`, ...
    pub key: String,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
}

/// An identity CA that agents of the cluster may chain to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct IdentityCa {
    /// The certificate.
    #[serde(flatten)]
    pub certificate: CertificateInfo,
    /// Whether it is the current one.
    pub current: bool,
    /// When it was first registered (RFC 3339).
    pub added_at: String,
}

/// A registered cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Cluster {
    /// The cluster's name.
    pub name: String,
    /// The account.
    pub account: String,
    /// `spiffe://<cluster>/`.
    pub spiffe_prefix: String,
    /// URL of its Kubernetes API server.
    pub server: String,
    /// The CA that verifies the API server.
    pub server_ca: CertificateInfo,
    /// Its identity CAs, current first.
    pub identity_cas: Vec<IdentityCa>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// The agent's version, as last reported.
    #[serde(default)]
    pub agent_version: Option<String>,
    /// `ready`, `stale` or `offline`.
    pub status: Status,
    /// When the status last changed (RFC 3339).
    pub status_changed_at: String,
    /// When the last heartbeat came (RFC 3339).
    #[serde(default)]
    pub last_heartbeat_at: Option<String>,
    /// Figures the agent reported with its last heartbeat.
    #[serde(default)]
    #[cfg_attr(feature = "contract", schema(value_type = Option<Object>))]
    pub figures: Option<serde_json::Value>,
    /// When it was first registered (RFC 3339).
    pub registered_at: String,
    /// When its registration last changed (RFC 3339).
    pub updated_at: String,
}

/// A heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Heartbeat {
    /// The agent's version.
    pub agent_version: String,
    /// Figures about the cluster (at most 32), e.g. `nodes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<BTreeMap<String, f64>>,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct HeartbeatAck {
    /// The cluster's status now.
    pub status: Status,
    /// Its status before this heartbeat.
    pub previous_status: String,
    /// Send the next heartbeat within this many seconds to stay `ready`.
    pub stale_after_seconds: u64,
}

/// Where a cluster's API server is, and the CA that verifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Kubeconfig {
    /// The cluster.
    pub cluster: String,
    /// URL of its API server.
    pub server: String,
    /// The server CA, PEM, base64-encoded.
    pub certificate_authority_data: String,
}

impl Client {
    /// The account's clusters.
    pub async fn list_clusters(&self, bearer: &str, account: &str) -> Result<Vec<Cluster>, Error> {
        self.call(&LIST_CLUSTERS, &[account], bearer, None::<&()>)
            .await
    }

    /// One cluster (members, or its own agent).
    pub async fn get_cluster(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
    ) -> Result<Cluster, Error> {
        self.call(&GET_CLUSTER, &[account, cluster], bearer, None::<&()>)
            .await
    }

    /// Registers or updates a cluster (an admin, a registration token, or its own agent).
    pub async fn register_cluster(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
        registration: &ClusterRegistration,
    ) -> Result<Registered, Error> {
        self.call(
            &REGISTER_CLUSTER,
            &[account, cluster],
            bearer,
            Some(registration),
        )
        .await
    }

    /// Deregisters a cluster (admins).
    pub async fn deregister_cluster(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
    ) -> Result<(), Error> {
        self.call_empty(
            &DEREGISTER_CLUSTER,
            &[account, cluster],
            bearer,
            None::<&()>,
        )
        .await
    }

    /// A heartbeat of the agent's own cluster.
    pub async fn heartbeat(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
        beat: &Heartbeat,
    ) -> Result<HeartbeatAck, Error> {
        self.call(&HEARTBEAT, &[account, cluster], bearer, Some(beat))
            .await
    }

    /// Where a cluster's API server is, and its CA.
    pub async fn kubeconfig(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
    ) -> Result<Kubeconfig, Error> {
        self.call(&KUBECONFIG, &[account, cluster], bearer, None::<&()>)
            .await
    }
}
