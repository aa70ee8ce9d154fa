//! The HTTP side of accounts: each handler extracts and checks the request, makes one call
//! to the operations in the parent module, and answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use flotilla_core::audit::Origin;
use flotilla_core::auth::{AccountAccess, Caller, Role};
use flotilla_core::http::problem_responses::{NeedsAdmin, NoSuchVisibleAccount, NotAuthenticated};
use flotilla_core::AppContext;
use flotilla_core::{Error as CoreError, Problem};

use super::{
    change_settings, create_account, read_account, Account, AccountSettings, Me, NewAccount,
    MAX_DNS_TTL,
};
use crate::error::Result;

/// Signs up: creates an account owned by the caller.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = Account),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token cannot sign up, or a cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid account name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn sign_up(
    State(ctx): State<AppContext>,
    caller: Caller,
    origin: Origin,
    Json(body): Json<NewAccount>,
) -> Result<(StatusCode, Json<Account>)> {
    let person = caller.require_person()?;
    let account = create_account(&ctx, person, &body.name, &origin).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Reads an account the caller belongs to.
#[utoipa::path(get, path = "/api/v1/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The account", body = Account),
        NotAuthenticated,
        NoSuchVisibleAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_account(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Account>> {
    Ok(Json(read_account(&ctx, access).await?))
}

/// Changes the account's settings (admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's name")),
    request_body = AccountSettings,
    responses(
        (status = 200, description = "The account with its new settings", body = Account),
        NotAuthenticated,
        NeedsAdmin,
        NoSuchVisibleAccount,
        (status = 422, description = "An unknown setting or a wrong type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_settings(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(settings): Json<AccountSettings>,
) -> Result<Json<Account>> {
    access.require(Role::Admin)?;
    if let Some(ttl) = settings.dns_ttl {
        if !(1..=MAX_DNS_TTL).contains(&ttl) {
            return Err(CoreError::invalid(
                "/dns_ttl",
                format!("must be from 1 to {MAX_DNS_TTL} seconds (got {ttl})"),
            )
            .into());
        }
    }
    Ok(Json(
        change_settings(&ctx, access, &origin, &settings).await?,
    ))
}

/// The caller: their person (or API token) and their accounts and roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = Me),
        NotAuthenticated,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn me(State(ctx): State<AppContext>, caller: Caller) -> Result<Json<Me>> {
    Ok(Json(Me::of(&ctx, &caller).await?))
}
