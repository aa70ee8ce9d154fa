//! The endpoints of registration tokens: create, list and revoke (admins).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flotilla_core::audit::{Actor, Origin};
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::problem_responses::{
    NeedsAdmin, NoSuchAccountOrToken, NoSuchVisibleAccount,
};
use flotilla_core::{AppContext, Error, Problem};
use uuid::Uuid;

use super::{
    create_token, list_tokens, revoke_token, CreatedRegistrationToken, NewRegistrationToken,
    RegistrationToken,
};

/// Creates a registration token (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account}/registration-tokens", operation_id = "create_registration_token", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewRegistrationToken,
    responses(
        (status = 201, description = "Created; `token` holds the secret, shown only now", body = CreatedRegistrationToken),
        NeedsAdmin,
        NoSuchVisibleAccount,
        (status = 422, description = "A bad description, time to live, use limit or label", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewRegistrationToken>,
) -> Result<(StatusCode, Json<CreatedRegistrationToken>), Error> {
    access.require(Role::Admin)?;
    let new = body.check()?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let created = create_token(&ctx, &access, &actor, &origin, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists the account's registration tokens, newest first (admins; never the secrets).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/registration-tokens", operation_id = "list_registration_tokens", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The tokens, newest first", body = [RegistrationToken]),
        NeedsAdmin,
        NoSuchVisibleAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<RegistrationToken>>, Error> {
    access.require(Role::Admin)?;
    Ok(Json(list_tokens(&ctx, access.account_id).await?))
}

/// Revokes a registration token at once (admins). Clusters it registered stay registered.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/registration-tokens/{id}", operation_id = "revoke_registration_token", tag = "clusters",
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
pub async fn revoke(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    let id = path.1;
    access.require(Role::Admin)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    revoke_token(&ctx, &access, &actor, &origin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
