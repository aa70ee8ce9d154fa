//! `PUT|DELETE .../clusters/{cluster}/endpoints/{host}`: what a cluster's agent reports for a
//! host it serves. The report is stored; a trigger puts the host in the reconciler's outbox in
//! the same transaction, so the change reaches DNS even if this replica dies right after.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_clusters::agent::{no_longer_registered, AgentOf};
use flotilla_core::problem::FieldError;
use flotilla_core::{AppContext, Error, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::hosts::{Host, Targets};

/// What an agent reports for one host of its cluster.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointReport {
    /// IPv4/IPv6 addresses (at most 32), or exactly one hostname (such as a load balancer's).
    pub targets: Vec<String>,
    /// Share of the region's traffic, 0-255 (0: only when no other cluster serves). Default 1.
    #[serde(default)]
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

/// Reports (creates or replaces) the cluster's endpoint for a host.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/clusters/{cluster}/endpoints/{host}", operation_id = "report_endpoint", tag = "dns",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The reporting cluster's name"),
        ("host" = String, Path, description = "A name inside `<account>.<base-domain>`, e.g. `hello-world.acme.example.com`"),
    ),
    request_body = EndpointReport,
    responses(
        (status = 200, description = "The endpoint was replaced", body = EndpointView),
        (status = 201, description = "The endpoint was created", body = EndpointView),
        (status = 401, description = "No cluster assertion, or one refused", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The assertion speaks for another cluster", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The host is outside the account's domain, or a target or the weight is refused; each error names the field and why", body = Problem, content_type = "application/problem+json"),
    ),
    security(("cluster_assertion" = [])))]
pub async fn put(
    State(ctx): State<AppContext>,
    AgentOf(agent): AgentOf,
    Path(path): Path<(String, String, String)>,
    Json(report): Json<EndpointReport>,
) -> Result<(StatusCode, Json<EndpointView>), Error> {
    let (_, _, host) = path;
    let mut errors = Vec::new();
    let host = Host::parse(&host, &agent.account, &ctx.config.dns_base_domain)
        .map_err(|e| errors.push(FieldError::new("host", e)))
        .ok();
    let targets = host.as_ref().and_then(|h| {
        Targets::parse(&report.targets, h)
            .map_err(|e| errors.push(FieldError::new("/targets", e)))
            .ok()
    });
    let weight = report.weight.unwrap_or(1);
    if !(0..=255).contains(&weight) {
        errors.push(FieldError::new(
            "/weight",
            format!("must be from 0 to 255 (got {weight})"),
        ));
    }
    let (Some(host), Some(targets), true) = (host, targets, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let healthy = report.healthy.unwrap_or(true);
    let row: Option<(bool, DateTime<Utc>, Option<String>)> = sqlx::query_as(
        "WITH up AS ( \
             INSERT INTO dns_endpoints (cluster_id, account_id, host, targets, weight, healthy) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (cluster_id, host) DO UPDATE SET targets = EXCLUDED.targets, \
                 weight = EXCLUDED.weight, healthy = EXCLUDED.healthy, updated_at = now() \
             RETURNING xmax = 0 AS created, updated_at) \
         SELECT up.created, up.updated_at, c.labels ->> 'region' FROM up, clusters c WHERE c.id = $1",
    )
    .bind(agent.cluster_id)
    .bind(agent.account_id)
    .bind(host.as_str())
    .bind(targets.to_strings())
    .bind(weight as i16)
    .bind(healthy)
    .fetch_optional(&ctx.db)
    .await
    .map_err(deregistered)?;
    let Some((created, updated_at, region)) = row else {
        return Err(no_longer_registered());
    };
    let view = EndpointView {
        host: host.as_str().to_owned(),
        cluster: agent.cluster.clone(),
        region,
        targets: targets.to_strings(),
        weight,
        healthy,
        updated_at,
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Withdraws the cluster's endpoint for a host.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/clusters/{cluster}/endpoints/{host}", operation_id = "withdraw_endpoint", tag = "dns",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The reporting cluster's name"),
        ("host" = String, Path, description = "The host"),
    ),
    responses(
        (status = 204, description = "Withdrawn; the host's records follow"),
        (status = 401, description = "No cluster assertion, or one refused", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The assertion speaks for another cluster", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The cluster reports no endpoint for this host", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The host is outside the account's domain", body = Problem, content_type = "application/problem+json"),
    ),
    security(("cluster_assertion" = [])))]
pub async fn delete(
    State(ctx): State<AppContext>,
    AgentOf(agent): AgentOf,
    Path(path): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    let (_, _, host) = path;
    let host = Host::parse(&host, &agent.account, &ctx.config.dns_base_domain)
        .map_err(|e| Error::invalid("host", e))?;
    let deleted = sqlx::query("DELETE FROM dns_endpoints WHERE cluster_id = $1 AND host = $2")
        .bind(agent.cluster_id)
        .bind(host.as_str())
        .execute(&ctx.db)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(Error::NotFound(format!(
            "Cluster {} reports no endpoint for {}.",
            agent.cluster,
            host.as_str()
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A foreign-key violation here means the cluster row went away under the report.
fn deregistered(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => {
            no_longer_registered()
        }
        _ => Error::Database(e),
    }
}
