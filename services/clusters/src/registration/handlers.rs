//! The registration endpoint: `PUT /api/v1/accounts/{account}/clusters/{cluster}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use flotilla_core::audit::Origin;
use flotilla_core::conditional::IfNoneMatch;
use flotilla_core::http::problem_responses::NoSuchVisibleAccount;
use flotilla_core::names::ClusterName;
use flotilla_core::{AppContext, Error, Problem};

use super::check::{apply_token_labels, check};
use super::registrar::{Registrar, RegistrarOf};
use super::{register_cluster, ClusterRegistration, Outcome, Registered};
use crate::Clusters;

/// Registers or updates a cluster, idempotently.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "register_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name: a DNS label, unique in the account"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: only create; 412 if the cluster exists"),
    ),
    request_body = ClusterRegistration,
    responses(
        (status = 201, description = "Registered a new cluster", body = Registered),
        (status = 200, description = "Updated, rotated, or unchanged (see `outcome`)", body = Registered),
        (status = 401, description = "No credential, or an invalid, used-up or foreign registration token, or a refused assertion", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role, or an agent of another cluster", body = Problem, content_type = "application/problem+json"),
        NoSuchVisibleAccount,
        (status = 412, description = "`If-None-Match: *` and the cluster exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, certificate, server URL, label or agent version: each field says what is wrong", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("registration_token" = []), ("cluster_assertion" = [])))]
pub async fn register(
    State(ctx): State<AppContext>,
    Extension(clusters): Extension<Arc<Clusters>>,
    RegistrarOf(registrar): RegistrarOf,
    origin: Origin,
    if_none_match: IfNoneMatch,
    Path(path): Path<(String, String)>,
    Json(body): Json<ClusterRegistration>,
) -> Result<(StatusCode, Json<Registered>), Error> {
    let (account, cluster) = path;
    let name = ClusterName::parse(&cluster)
        .map_err(|e| Error::invalid("cluster", format!("the cluster name {e}")))?;
    let mut checked = check(body, ctx.config.dev)?;
    if let Registrar::Token(token) = &registrar {
        checked.labels = Some(apply_token_labels(checked.labels.take(), &token.labels)?);
    }
    let create_only = if_none_match.only_create();
    let (outcome, cluster) = register_cluster(
        &ctx,
        &clusters.settings,
        &registrar,
        &origin,
        &account,
        &name,
        &checked,
        create_only,
    )
    .await?;
    let status = if outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Registered { outcome, cluster })))
}
