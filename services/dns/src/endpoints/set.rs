//! `GET|PUT .../clusters/{cluster}/endpoints`: a cluster's whole set of endpoints, read (by
//! its agent, to resynchronise and to log, or by a member), or replaced in one request by its
//! agent after a start or a missed watch event: what the set lacks is withdrawn, what is
//! unchanged is not written, all in one transaction.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use flotilla_clusters::agent::{no_longer_registered, AgentOf, Reader};
use flotilla_clusters::clusters::no_such_cluster;
use flotilla_core::http::problem_responses::{
    AssertionOfAnotherCluster, NoSuchAccountOrCluster, NotAuthenticatedOrAssertionRefused,
};
use flotilla_core::problem::FieldError;
use flotilla_core::{AppContext, Error, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{store, zone, Endpoint, EndpointChanges, EndpointView, Fields};
use crate::responses::{AssertionSpeaksForAnotherCluster, NoClusterAssertion};

/// Most endpoints one set may hold.
pub const MAX_SET: usize = 1000;

/// A cluster's whole set of endpoints, as its agent reports it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSetReport {
    /// Every endpoint the cluster serves (at most 1000, hosts distinct); any other endpoint
    /// of the cluster is withdrawn. Empty withdraws them all.
    #[schema(max_items = 1000)]
    pub endpoints: Vec<HostEndpointReport>,
}

/// One endpoint of a set: a host and what the cluster serves for it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostEndpointReport {
    /// A name inside `<account>.<base-domain>` (at most 200 characters, and a final dot).
    #[schema(min_length = 1, max_length = 201)]
    pub host: String,
    /// IPv4/IPv6 addresses (at most 32), or exactly one hostname.
    #[schema(min_items = 1, max_items = 32)]
    pub targets: Vec<String>,
    /// 0-255. Default 1.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 255)]
    pub weight: Option<i64>,
    /// Default true; false takes it out of DNS.
    #[serde(default)]
    pub healthy: Option<bool>,
}

/// A cluster's endpoints, and the zone they must lie in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterEndpoints {
    /// The cluster.
    pub cluster: String,
    /// The account's DNS zone, `<account>.<base-domain>`: a host is this name or under it.
    #[schema(example = "acme.flotilla.example.com")]
    pub zone: String,
    /// The endpoints, by host.
    pub endpoints: Vec<EndpointView>,
    /// What a replacement did (only in the answer to `PUT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<EndpointChanges>,
}

/// The cluster's endpoints (its agent, or a member of the account), with the account's zone.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/endpoints", operation_id = "cluster_endpoints", tag = "dns",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 200, description = "The cluster's endpoints", body = ClusterEndpoints),
        NotAuthenticatedOrAssertionRefused,
        AssertionOfAnotherCluster,
        NoSuchAccountOrCluster,
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn get(
    State(ctx): State<AppContext>,
    reader: Reader,
    Path(path): Path<(String, String)>,
) -> Result<Json<ClusterEndpoints>, Error> {
    let cluster = path.1;
    let mut conn = ctx.db.acquire().await?;
    let set = store::load(&mut conn, reader.account_id(), &cluster)
        .await?
        .ok_or_else(|| match reader {
            Reader::Agent(_) => no_longer_registered(),
            Reader::Member(_) => no_such_cluster(reader.account(), &cluster),
        })?;
    Ok(Json(answer(&ctx, reader.account(), cluster, set)))
}

/// Replaces the cluster's whole set of endpoints (its agent): absent ones are withdrawn, new
/// and changed ones written, unchanged ones left alone; one transaction. A refused entry
/// refuses the whole set.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/clusters/{cluster}/endpoints", operation_id = "replace_endpoints", tag = "dns",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The reporting cluster's name"),
    ),
    request_body = EndpointSetReport,
    responses(
        (status = 200, description = "The set is replaced; the cluster's endpoints now, and what changed", body = ClusterEndpoints),
        NoClusterAssertion,
        AssertionSpeaksForAnotherCluster,
        (status = 413, description = "The body is larger than the server's body limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 1000 endpoints, a host listed twice or outside the account's zone, or a target or weight refused; each error names the entry's field (`/endpoints/3/host`) and why. Nothing is written", body = Problem, content_type = "application/problem+json"),
    ),
    security(("cluster_assertion" = [])))]
pub async fn replace(
    State(ctx): State<AppContext>,
    AgentOf(agent): AgentOf,
    Json(body): Json<EndpointSetReport>,
) -> Result<Json<ClusterEndpoints>, Error> {
    let set = parse_set(&body, &agent.account, &ctx.config.dns_base_domain)?;
    let mut tx = ctx.db.begin().await?;
    // The cluster's row is locked first, so it cannot go away under the writes.
    let (stored, changes) = store::replace(&mut tx, agent.cluster_id, agent.account_id, &set)
        .await?
        .ok_or_else(no_longer_registered)?;
    tx.commit().await?;
    Ok(Json(ClusterEndpoints {
        changes: Some(changes),
        ..answer(&ctx, &agent.account, agent.cluster, stored)
    }))
}

/// The answer about `cluster` of `account`: its endpoints, and the zone they lie in.
fn answer(
    ctx: &AppContext,
    account: &str,
    cluster: String,
    set: store::ClusterSet,
) -> ClusterEndpoints {
    ClusterEndpoints {
        zone: zone(account, &ctx.config.dns_base_domain),
        endpoints: set
            .endpoints
            .into_iter()
            .map(|e| EndpointView::of(e, &cluster, set.region.clone()))
            .collect(),
        cluster,
        changes: None,
    }
}

/// Parses every entry of a set; all that is wrong, or the endpoints with distinct hosts.
fn parse_set(
    body: &EndpointSetReport,
    account: &str,
    base_domain: &str,
) -> Result<Vec<Endpoint>, Error> {
    if body.endpoints.len() > MAX_SET {
        return Err(Error::invalid(
            "/endpoints",
            format!(
                "at most {MAX_SET} endpoints in one set (got {}); a cluster serving more hosts cannot be reported",
                body.endpoints.len()
            ),
        ));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let mut set = Vec::with_capacity(body.endpoints.len());
    let mut first_at: HashMap<String, usize> = HashMap::new();
    for (i, entry) in body.endpoints.iter().enumerate() {
        let pointer = format!("/endpoints/{i}");
        let fields = Fields {
            host: &entry.host,
            targets: &entry.targets,
            weight: entry.weight,
            healthy: entry.healthy,
        };
        let endpoint = match Endpoint::parse(fields, account, base_domain, &pointer) {
            Ok(endpoint) => endpoint,
            Err(refused) => {
                errors.extend(refused);
                continue;
            }
        };
        match first_at.insert(endpoint.host.as_str().to_owned(), i) {
            Some(first) => errors.push(FieldError::new(
                format!("{pointer}/host"),
                format!(
                    "{} is listed twice (also at /endpoints/{first}); a set has one endpoint per host",
                    endpoint.host.as_str()
                ),
            )),
            None => set.push(endpoint),
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(host: &str, targets: &[&str]) -> HostEndpointReport {
        HostEndpointReport {
            host: host.into(),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            weight: None,
            healthy: None,
        }
    }

    fn fields(e: &Error) -> Vec<String> {
        match e {
            Error::Validation(errors) => errors.iter().map(|e| e.field.clone()).collect(),
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn a_set_is_parsed_whole_or_refused_naming_each_entry() {
        let ok = EndpointSetReport {
            endpoints: vec![
                entry("www.acme.example.com", &["192.0.2.1"]),
                entry("API.acme.example.com.", &["lb.example.net"]),
            ],
        };
        let set = parse_set(&ok, "acme", "example.com").expect("a valid set");
        assert_eq!(set.len(), 2);
        assert_eq!(set[1].host.as_str(), "api.acme.example.com");

        let bad = EndpointSetReport {
            endpoints: vec![
                entry("www.acme.example.com", &["192.0.2.1"]),
                entry("www.other.example.com", &["192.0.2.2"]),
                entry("WWW.acme.example.com", &["192.0.2.3"]),
                HostEndpointReport {
                    weight: Some(256),
                    ..entry("x.acme.example.com", &["not an address"])
                },
            ],
        };
        let e = parse_set(&bad, "acme", "example.com").expect_err("refused");
        assert_eq!(
            fields(&e),
            [
                "/endpoints/1/host",
                "/endpoints/2/host",
                "/endpoints/3/targets",
                "/endpoints/3/weight"
            ]
        );
    }

    #[test]
    fn more_than_a_thousand_endpoints_are_refused_before_any_is_parsed() {
        let big = EndpointSetReport {
            endpoints: (0..=MAX_SET)
                .map(|i| entry(&format!("h{i}.acme.example.com"), &["192.0.2.1"]))
                .collect(),
        };
        let e = parse_set(&big, "acme", "example.com").expect_err("refused");
        assert_eq!(fields(&e), ["/endpoints"]);
        assert!(e.to_string().contains("at most 1000"), "{e}");
    }
}
