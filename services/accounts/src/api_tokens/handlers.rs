//! The HTTP side of API tokens: each handler checks the caller's role and the request, makes
//! one call to the operations in the parent module, and answers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flotilla_core::audit::Origin;
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::problem_responses::{
    NeedsAdmin, NoSuchAccountOrToken, NoSuchVisibleAccount,
};
use flotilla_core::{AppContext, Error as CoreError, Problem};
use uuid::Uuid;

use super::{create, list, revoke, ApiToken, CreatedApiToken, NewApiToken};
use crate::error::Result;

/// Creates an API token.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/tokens", tag = "tokens",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewApiToken,
    responses(
        (status = 201, description = "Created; `token` holds the secret, shown only now", body = CreatedApiToken),
        (status = 403, description = "Needs the admin role, or a role above the caller's", body = Problem, content_type = "application/problem+json"),
        NoSuchVisibleAccount,
        (status = 422, description = "A bad name or expiry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>)> {
    access.require(Role::Admin)?;
    // A token cannot mint tokens: a leaked one must not be able to renew itself.
    access.caller.require_person()?;
    if body.role > access.role {
        return Err(CoreError::Forbidden(format!(
            "A token cannot have more power than its creator: you are {}, the token asks for {}.",
            access.role, body.role
        ))
        .into());
    }
    let name = body.check()?;
    let created = create(&ctx, &access, &origin, name, body.role, body.expires_at).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists the account's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/tokens", tag = "tokens",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The tokens, newest first", body = [ApiToken]),
        NeedsAdmin,
        NoSuchVisibleAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_tokens(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<ApiToken>>> {
    access.require(Role::Admin)?;
    Ok(Json(list(&ctx, access.account_id).await?))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/tokens/{id}", tag = "tokens",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("id" = Uuid, Path, description = "The token's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        NeedsAdmin,
        NoSuchAccountOrToken,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn revoke_token(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, Uuid)>,
) -> Result<StatusCode> {
    access.require(Role::Admin)?;
    revoke(&ctx, &access, &origin, path.1).await?;
    Ok(StatusCode::NO_CONTENT)
}
