//! The HTTP side of the audit log.

use axum::extract::{Query, State};
use axum::Json;
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::http::problem_responses::{BadLimit, NeedsAdmin, NoSuchVisibleAccount};
use flotilla_core::AppContext;

use super::{read_page, AuditPage};
use crate::error::Result;

/// The account's audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/audit", operation_id = "audit_log", tag = "audit",
    params(("account" = String, Path, description = "The account's name"), PageQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPage),
        NeedsAdmin,
        NoSuchVisibleAccount,
        BadLimit,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn audit(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Query(page): Query<PageQuery>,
) -> Result<Json<AuditPage>> {
    access.require(Role::Admin)?;
    Ok(Json(read_page(&ctx, access.account_id, &page).await?))
}
