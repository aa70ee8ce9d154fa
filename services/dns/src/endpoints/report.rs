//! `PUT|DELETE .../clusters/{cluster}/endpoints/{host}`: a cluster's agent reports, or
//! withdraws, its endpoint for one host.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flotilla_clusters::agent::{no_longer_registered, AgentOf};
use flotilla_core::removal::Removal;
use flotilla_core::{AppContext, Error, Problem};

use super::{store, Endpoint, EndpointReport, EndpointView, Fields};
use crate::hosts::Host;
use crate::responses::{AssertionSpeaksForAnotherCluster, NoClusterAssertion};

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
        NoClusterAssertion,
        AssertionSpeaksForAnotherCluster,
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
    let fields = Fields {
        host: &host,
        targets: &report.targets,
        weight: report.weight,
        healthy: report.healthy,
    };
    let endpoint = Endpoint::parse(fields, &agent.account, &ctx.config.dns_base_domain, "")
        .map_err(Error::Validation)?;
    let mut conn = ctx.db.acquire().await?;
    let upserted = store::upsert(&mut conn, agent.cluster_id, agent.account_id, &endpoint)
        .await
        .map_err(deregistered)?
        .ok_or_else(no_longer_registered)?;
    let status = if upserted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let view = EndpointView::of(upserted.endpoint, &agent.cluster, upserted.region);
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
        NoClusterAssertion,
        AssertionSpeaksForAnotherCluster,
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
    let mut conn = ctx.db.acquire().await?;
    store::delete(&mut conn, agent.cluster_id, &host)
        .await?
        .or_not_found(|| {
            format!(
                "Cluster {} reports no endpoint for {}.",
                agent.cluster,
                host.as_str()
            )
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// A foreign-key violation here means the cluster row went away under the report.
fn deregistered(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => no_longer_registered(),
        _ => Error::Database(e),
    }
}
