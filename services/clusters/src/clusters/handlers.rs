//! The endpoints of registered clusters: list, read, deregister, remove an identity CA, and
//! read the events.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use flotilla_core::audit::{Actor, Origin};
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::http::problem_responses::{
    BadLimit, NeedsAdmin, NoSuchAccountOrCluster, NoSuchVisibleAccount,
};
use flotilla_core::{AppContext, Error, Problem};

use super::{
    deregister_cluster, events_page, load, no_such_cluster, no_such_identity_ca, parse_hex,
    stop_trusting_identity_ca, Cluster, ClusterEvents,
};
use crate::agent::{own_cluster, Reader};
use crate::Clusters;

/// Lists the account's clusters, by name (members).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters", operation_id = "list_clusters", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The clusters, by name", body = [Cluster]),
        NoSuchVisibleAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(ctx): State<AppContext>,
    Extension(clusters): Extension<Arc<Clusters>>,
    access: AccountAccess,
) -> Result<Json<Vec<Cluster>>, Error> {
    access.require(Role::Viewer)?;
    Ok(Json(
        load(
            &ctx,
            &clusters.settings,
            access.account_id,
            &access.account,
            None,
        )
        .await?,
    ))
}

/// Reads a cluster (members, or the cluster's own agent).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "get_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 200, description = "The cluster", body = Cluster),
        (status = 401, description = "No credential, or a refused one (a refused cluster assertion says why)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An agent of another cluster", body = Problem, content_type = "application/problem+json"),
        NoSuchAccountOrCluster,
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn get(
    State(ctx): State<AppContext>,
    Extension(clusters): Extension<Arc<Clusters>>,
    reader: Reader,
    Path(path): Path<(String, String)>,
) -> Result<Json<Cluster>, Error> {
    let cluster = path.1;
    let found = load(
        &ctx,
        &clusters.settings,
        reader.account_id(),
        reader.account(),
        Some(&cluster),
    )
    .await?;
    found
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| no_such_cluster(reader.account(), &cluster))
}

/// Deregisters a cluster (admins): its CAs, events and (later) endpoints go with it, and its
/// agents are cut off at once on every replica.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "deregister_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 204, description = "Deregistered"),
        NeedsAdmin,
        NoSuchAccountOrCluster,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn deregister(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let cluster = path.1;
    access.require(Role::Admin)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    deregister_cluster(&ctx, &access, &actor, &origin, &cluster).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops trusting an identity CA that a rotation replaced (admins, or the cluster's own
/// agent); agents chaining to it are cut off at once. The current CA cannot be removed.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/clusters/{cluster}/identity-cas/{sha256}", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        ("sha256" = String, Path, description = "The CA's SHA-256 fingerprint, hex"),
    ),
    responses(
        (status = 204, description = "Removed: no longer trusted"),
        (status = 403, description = "Needs the admin role or the cluster's own agent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, cluster or CA", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is the current identity CA", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn remove_identity_ca(
    State(ctx): State<AppContext>,
    reader: Reader,
    origin: Origin,
    Path(path): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    let (_, cluster, sha256) = path;
    let actor = match &reader {
        Reader::Member(access) => {
            access.require(Role::Admin)?;
            Actor::of(&ctx, &access.caller).await?
        }
        Reader::Agent(agent) => {
            own_cluster(agent, &cluster)?;
            Actor::agent(agent)
        }
    };
    let fingerprint = parse_hex(&sha256).ok_or_else(|| no_such_identity_ca(&cluster, &sha256))?;
    stop_trusting_identity_ca(
        &ctx,
        &reader,
        &actor,
        &origin,
        &cluster,
        &sha256,
        &fingerprint,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A cluster's events, newest first (members, or the cluster's own agent).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/events", operation_id = "cluster_events", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of events", body = ClusterEvents),
        NoSuchAccountOrCluster,
        BadLimit,
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn events(
    State(ctx): State<AppContext>,
    reader: Reader,
    Path(path): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ClusterEvents>, Error> {
    let cluster = path.1;
    let limit = page.limit()?;
    Ok(Json(
        events_page(&ctx, &reader, &cluster, &page, limit).await?,
    ))
}
