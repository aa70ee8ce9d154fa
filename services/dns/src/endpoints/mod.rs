//! What a cluster's agent reports for the hosts it serves: one endpoint at a time
//! (`report`), or its whole set at once, as an agent resynchronises (`set`). Reports are
//! parsed here once; the SQL is in `store`. A trigger puts every changed host in the
//! reconciler's outbox in the same transaction, so a change reaches DNS even if this replica
//! dies right after.

pub mod report;
pub mod set;
pub mod store;

use chrono::{DateTime, Utc};
use flotilla_core::problem::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::hosts::{Host, Targets};

/// What an agent reports for one host of its cluster.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointReport {
    /// IPv4/IPv6 addresses (at most 32), or exactly one hostname (such as a load balancer's).
    #[schema(min_items = 1, max_items = 32)]
    pub targets: Vec<String>,
    /// Share of the region's traffic, 0-255 (0: only when no other cluster serves). Default 1.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 255)]
    pub weight: Option<i64>,
    /// Whether the endpoint can serve. Default true; false takes it out of DNS.
    #[serde(default)]
    pub healthy: Option<bool>,
}

/// An endpoint as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// The host, fully qualified, without the trailing dot.
    pub host: String,
    /// The reporting cluster.
    pub cluster: String,
    /// The cluster's `region` label.
    pub region: Option<String>,
    /// Addresses, or one hostname.
    pub targets: Vec<String>,
    /// 0-255.
    pub weight: i64,
    /// As last reported.
    pub healthy: bool,
    /// When it was last reported.
    pub updated_at: DateTime<Utc>,
}

/// What replacing a set did.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EndpointChanges {
    /// Endpoints that were new.
    pub created: u64,
    /// Endpoints whose targets, weight or health changed.
    pub updated: u64,
    /// Endpoints already so: nothing was written for them.
    pub unchanged: u64,
    /// Endpoints absent from the set: withdrawn.
    pub withdrawn: u64,
}

/// One endpoint, parsed: what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The host it serves.
    pub host: Host,
    /// What it serves.
    pub targets: Targets,
    /// 0-255.
    pub weight: i16,
    /// Whether it can serve.
    pub healthy: bool,
}

/// The fields of one report, wherever its host comes from (the path, or the set's entry).
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// The host, as given.
    pub host: &'a str,
    /// The targets, as given.
    pub targets: &'a [String],
    /// The weight, if given.
    pub weight: Option<i64>,
    /// The health, if given.
    pub healthy: Option<bool>,
}

impl Endpoint {
    /// Parses a report of `account`; what is wrong, each error named under `pointer` (`""`
    /// for a lone report, whose host is the path's; `/endpoints/3` in a set).
    pub fn parse(
        fields: Fields<'_>,
        account: &str,
        base_domain: &str,
        pointer: &str,
    ) -> Result<Endpoint, Vec<FieldError>> {
        let mut errors = Vec::new();
        let host_field = if pointer.is_empty() {
            "host".to_owned()
        } else {
            format!("{pointer}/host")
        };
        let host = Host::parse(fields.host, account, base_domain)
            .map_err(|e| errors.push(FieldError::new(host_field, e)))
            .ok();
        let targets = host.as_ref().and_then(|h| {
            Targets::parse(fields.targets, h)
                .map_err(|e| errors.push(FieldError::new(format!("{pointer}/targets"), e)))
                .ok()
        });
        let weight = fields.weight.unwrap_or(1);
        let weight = u8::try_from(weight)
            .map_err(|_| {
                errors.push(FieldError::new(
                    format!("{pointer}/weight"),
                    format!("must be from 0 to 255 (got {weight})"),
                ))
            })
            .ok();
        match (host, targets, weight) {
            (Some(host), Some(targets), Some(weight)) => Ok(Endpoint {
                host,
                targets,
                weight: i16::from(weight),
                healthy: fields.healthy.unwrap_or(true),
            }),
            _ => Err(errors),
        }
    }
}

impl EndpointView {
    /// The view of a stored endpoint of `cluster`, in `region`.
    pub fn of(stored: store::StoredEndpoint, cluster: &str, region: Option<String>) -> Self {
        EndpointView {
            host: stored.host,
            cluster: cluster.to_owned(),
            region,
            targets: stored.targets,
            weight: i64::from(stored.weight),
            healthy: stored.healthy,
            updated_at: stored.updated_at,
        }
    }
}

/// The account's DNS zone: `<account>.<base domain>`, where every host of its lies.
pub fn zone(account: &str, base_domain: &str) -> String {
    format!("{account}.{base_domain}")
}
