//! Lookups of one cluster, for agents and members of its account: where its API server is
//! (what a `Kubeconfig` with `admiraltyReference` resolves into) and which identity CAs to
//! trust for its workloads (what a `TrustedIdentityProvider` resolves into).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::ACCEPT;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use flotilla_clusters::clusters::no_such_cluster;
use flotilla_core::conditional::IfNoneMatch;
use flotilla_core::http::problem_responses::{
    NoSuchAccountOrCluster, NotAuthenticatedOrAssertionRefused,
};
use flotilla_core::{AppContext, Error, Problem};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::conditional::{answer, PRIVATE};
use crate::reader::DirectoryReader;
use crate::snapshot::{ClusterDocs, IdentityProvider, Kubeconfig};
use crate::Directory;

/// How a kubeconfig is wanted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KubeconfigQuery {
    /// `json` (the default) or `kubeconfig` (a kubeconfig YAML document, as with
    /// `Accept: application/yaml`).
    #[param(value_type = Option<KubeconfigFormat>, inline)]
    pub format: Option<String>,
}

/// The forms `?format=` names (read as text, so that another value is refused with a clear
/// message rather than a deserializer's).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum KubeconfigFormat {
    /// The lookup as JSON.
    Json,
    /// A kubeconfig YAML document.
    Kubeconfig,
}

/// The cluster's kubeconfig lookup: its API server URL and CA.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/kubeconfig", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        KubeconfigQuery,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the caller has"),
    ),
    responses(
        (status = 200, description = "The cluster's API server and CA; with `Accept: application/yaml` or `?format=kubeconfig`, a kubeconfig document holding that cluster and no user",
            headers(("ETag" = String, description = "Strong validator of this representation")),
            content(
                (Kubeconfig = "application/json"),
                (Object = "application/yaml"),
            )),
        (status = 304, description = "The caller's copy (If-None-Match) is current"),
        NotAuthenticatedOrAssertionRefused,
        NoSuchAccountOrCluster,
        (status = 422, description = "An unknown format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn kubeconfig(
    State(ctx): State<AppContext>,
    Extension(directory): Extension<Arc<Directory>>,
    reader: DirectoryReader,
    Path(path): Path<(String, String)>,
    Query(query): Query<KubeconfigQuery>,
    if_none_match: IfNoneMatch,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let yaml = match query.format.as_deref() {
        Some("kubeconfig") => true,
        Some("json") => false,
        Some(other) => {
            let shown: String = other.chars().take(32).collect();
            return Err(Error::invalid(
                "format",
                format!("{shown:?} is not a format here: json or kubeconfig"),
            ));
        }
        None => wants_yaml(&headers),
    };
    let (_, cluster) = path;
    let docs = lookup(&ctx, &directory, &reader, &cluster).await?;
    Ok(if yaml {
        answer(
            &if_none_match,
            &docs.kubeconfig_yaml,
            "application/yaml",
            PRIVATE,
        )
    } else {
        answer(
            &if_none_match,
            &docs.kubeconfig,
            "application/json",
            PRIVATE,
        )
    })
}

/// Whether `Accept` prefers YAML: it names a YAML type and JSON is not named before it.
fn wants_yaml(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let position = |types: &[&str]| types.iter().filter_map(|t| accept.find(t)).min();
    match position(&["application/yaml", "application/x-yaml", "text/yaml"]) {
        Some(yaml) => position(&["application/json"]).is_none_or(|json| yaml < json),
        None => false,
    }
}

/// The cluster's trusted identity provider: its SPIFFE prefix and every identity CA it
/// currently trusts.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/identity-provider", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the caller has"),
    ),
    responses(
        (status = 200, description = "The prefix and CAs to trust", body = IdentityProvider,
            headers(("ETag" = String, description = "Strong validator of this document"))),
        (status = 304, description = "The caller's copy (If-None-Match) is current"),
        NotAuthenticatedOrAssertionRefused,
        NoSuchAccountOrCluster,
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn identity_provider(
    State(ctx): State<AppContext>,
    Extension(directory): Extension<Arc<Directory>>,
    reader: DirectoryReader,
    Path(path): Path<(String, String)>,
    if_none_match: IfNoneMatch,
) -> Result<Response, Error> {
    let (_, cluster) = path;
    let docs = lookup(&ctx, &directory, &reader, &cluster).await?;
    Ok(answer(
        &if_none_match,
        &docs.identity_provider,
        "application/json",
        PRIVATE,
    ))
}

/// The documents of `cluster` in the reader's account.
pub async fn lookup(
    ctx: &AppContext,
    directory: &Directory,
    reader: &DirectoryReader,
    cluster: &str,
) -> Result<Arc<ClusterDocs>, Error> {
    let snapshot = directory.snapshot(ctx, reader.account_id).await?;
    snapshot
        .clusters
        .get(cluster)
        .cloned()
        .ok_or_else(|| no_such_cluster(&reader.account, cluster))
}
