//! DNS endpoints a cluster's agent reports: one host at a time, or the whole set.

use serde::{Deserialize, Serialize};

use crate::{
    Client, Error, CLUSTER_ENDPOINTS, REPLACE_ENDPOINTS, REPORT_ENDPOINT, WITHDRAW_ENDPOINT,
};

/// What an agent reports for one host of its cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct EndpointReport {
    /// IPv4/IPv6 addresses (at most 32), or exactly one hostname.
    pub targets: Vec<String>,
    /// 0-255; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Whether it can serve; true when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
}

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct EndpointView {
    /// The host, fully qualified, without the trailing dot.
    pub host: String,
    /// The reporting cluster.
    pub cluster: String,
    /// The cluster's `region` label.
    #[serde(default)]
    pub region: Option<String>,
    /// Addresses, or one hostname.
    pub targets: Vec<String>,
    /// 0-255.
    pub weight: i64,
    /// As last reported.
    pub healthy: bool,
    /// When it was last reported (RFC 3339).
    pub updated_at: String,
}

/// A cluster's whole set of endpoints; any other endpoint of the cluster is withdrawn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct EndpointSetReport {
    /// Every endpoint the cluster serves (at most 1000, hosts distinct).
    pub endpoints: Vec<HostEndpointReport>,
}

/// One endpoint of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct HostEndpointReport {
    /// A name inside the account's zone.
    pub host: String,
    /// IPv4/IPv6 addresses, or exactly one hostname.
    pub targets: Vec<String>,
    /// 0-255; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// True when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
}

/// A cluster's endpoints, and the zone they must lie in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct ClusterEndpoints {
    /// The cluster.
    pub cluster: String,
    /// The account's DNS zone: a host is this name or under it.
    pub zone: String,
    /// The endpoints, by host.
    pub endpoints: Vec<EndpointView>,
    /// What a replacement did (only in the answer to a replacement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<EndpointChanges>,
}

/// What replacing a set did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct EndpointChanges {
    /// Endpoints that were new.
    pub created: u64,
    /// Endpoints whose targets, weight or health changed.
    pub updated: u64,
    /// Endpoints already so.
    pub unchanged: u64,
    /// Endpoints withdrawn.
    pub withdrawn: u64,
}

impl Client {
    /// The cluster's reported endpoints, and the account's zone.
    pub async fn cluster_endpoints(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
    ) -> Result<ClusterEndpoints, Error> {
        self.call(&CLUSTER_ENDPOINTS, &[account, cluster], bearer, None::<&()>)
            .await
    }

    /// Replaces the cluster's whole set of endpoints (its agent).
    pub async fn replace_endpoints(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
        set: &EndpointSetReport,
    ) -> Result<ClusterEndpoints, Error> {
        self.call(&REPLACE_ENDPOINTS, &[account, cluster], bearer, Some(set))
            .await
    }

    /// Reports the cluster's endpoint for `host` (its agent).
    pub async fn report_endpoint(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
        host: &str,
        report: &EndpointReport,
    ) -> Result<EndpointView, Error> {
        self.call(
            &REPORT_ENDPOINT,
            &[account, cluster, host],
            bearer,
            Some(report),
        )
        .await
    }

    /// Withdraws the cluster's endpoint for `host` (its agent).
    pub async fn withdraw_endpoint(
        &self,
        bearer: &str,
        account: &str,
        cluster: &str,
        host: &str,
    ) -> Result<(), Error> {
        self.call_empty(
            &WITHDRAW_ENDPOINT,
            &[account, cluster, host],
            bearer,
            None::<&()>,
        )
        .await
    }
}
