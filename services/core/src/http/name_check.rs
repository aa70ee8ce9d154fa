//! `POST /api/v1/name-checks`: whether a name is acceptable for an account or a cluster, and
//! why not. The console's sign-up form and the CLI call it to validate as people type.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::AppContext;
use crate::names::{AccountName, ClusterName};
use crate::problem::Problem;

/// What the name is for.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NameKind {
    /// An account: becomes `<account>.<base-domain>`.
    Account,
    /// A cluster: becomes the SPIFFE trust domain `spiffe://<cluster>/`.
    Cluster,
}

/// A name to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameCheckRequest {
    /// What the name is for.
    pub kind: NameKind,
    /// The candidate name.
    #[schema(example = "acme")]
    pub name: String,
}

/// The verdict on a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct NameCheck {
    /// What the name is for.
    pub kind: NameKind,
    /// The name checked.
    pub name: String,
    /// Whether the name is acceptable.
    pub valid: bool,
    /// Why it is not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where it would live: `<account>.<base-domain>` or `spiffe://<cluster>/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The name-check routes.
pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(check_name))
}

/// Checks a candidate account or cluster name.
#[utoipa::path(post, path = "/api/v1/name-checks", tag = "names",
    request_body = NameCheckRequest,
    responses(
        (status = 200, description = "The verdict", body = NameCheck),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = Problem, content_type = "application/problem+json"),
    ))]
async fn check_name(
    State(ctx): State<AppContext>,
    Json(request): Json<NameCheckRequest>,
) -> Json<NameCheck> {
    let verdict = match request.kind {
        NameKind::Account => {
            AccountName::parse(&request.name).map(|n| format!("{n}.{}", ctx.config.dns_base_domain))
        }
        NameKind::Cluster => ClusterName::parse(&request.name).map(|n| format!("spiffe://{n}/")),
    };
    Json(NameCheck {
        kind: request.kind,
        valid: verdict.is_ok(),
        reason: verdict.as_ref().err().map(ToString::to_string),
        domain: verdict.ok(),
        name: request.name,
    })
}
