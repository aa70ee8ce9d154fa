//! The HTTP side of members: each handler checks the caller's role, parses the email, makes
//! one call to the operations in the parent module, and answers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flotilla_core::audit::Origin;
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::problem_responses::{NoSuchVisibleAccount, NotAuthenticated};
use flotilla_core::{AppContext, Problem};

use super::responses::{NotAnEmail, OnlyOwnersManageMembers, WouldLeaveNoOwner};
use super::{add, list, parse_email, remove, Member, NewMember};
use crate::error::Result;

/// Lists the account's members and invitations.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/members", tag = "members",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "Members and invitations", body = [Member]),
        NotAuthenticated,
        NoSuchVisibleAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_members(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<Member>>> {
    Ok(Json(list(&ctx, access.account_id).await?))
}

/// Adds a member by log-in email (or changes their role); invites them if they have never
/// logged in.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/members", tag = "members",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added, or invited until their first log-in", body = Member),
        OnlyOwnersManageMembers,
        NoSuchVisibleAccount,
        WouldLeaveNoOwner,
        NotAnEmail,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_member(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewMember>,
) -> Result<(StatusCode, Json<Member>)> {
    access.require(Role::Owner)?;
    let email = parse_email(&body.email)?;
    let member = add(&ctx, &access, &origin, email, body.role).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Removes a member (or an invitation) by log-in email.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/members/{email}", tag = "members",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("email" = String, Path, description = "The member's log-in email", max_length = 254,
            pattern = "^[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+@(localhost|[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*\\.[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)$"),
    ),
    responses(
        (status = 204, description = "Removed"),
        OnlyOwnersManageMembers,
        (status = 404, description = "No such account, or no such member", body = Problem, content_type = "application/problem+json"),
        WouldLeaveNoOwner,
        NotAnEmail,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_member(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode> {
    access.require(Role::Owner)?;
    let email = parse_email(&path.1)?;
    remove(&ctx, &access, &origin, &email).await?;
    Ok(StatusCode::NO_CONTENT)
}
