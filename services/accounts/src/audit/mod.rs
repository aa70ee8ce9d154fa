//! `GET /api/v1/accounts/{account}/audit`: who did what to the account, newest first, for
//! its admins. The entries are written by each service in the transaction of the change
//! (see `flotilla_core::audit`).

use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::{AppContext, Problem};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Its id (newer entries have larger ids; pass as `before` for the next page).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What, as `noun.verb`: `cluster.registered`, `cluster.rotated`,
    /// `cluster.deregistered`, `api-token.created`, `member.removed`, ...
    pub action: String,
    /// Who: `person`, `api-token`, `registration-token` or `cluster`.
    pub actor_kind: String,
    /// The person's, token's or cluster's id.
    pub actor_id: Option<Uuid>,
    /// Who, as shown: an email, a token's name, a cluster and its agent's identity.
    pub actor: String,
    /// To what: a cluster, a token, a member's email.
    pub target: String,
    /// More about it.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The request's id.
    pub request_id: Option<String>,
    /// The address the request came from.
    pub source: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, newest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

type Row = (
    i64,
    DateTime<Utc>,
    String,
    String,
    Option<Uuid>,
    String,
    String,
    serde_json::Value,
    Option<String>,
    Option<String>,
);

/// The account's audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/audit", operation_id = "audit_log", tag = "audit",
    params(("account" = String, Path, description = "The account's name"), PageQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPage),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn audit(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Query(page): Query<PageQuery>,
) -> Result<Json<AuditPage>> {
    access.require(Role::Admin)?;
    let limit = page.limit()?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, action, actor_kind, actor_id, actor, target, details, request_id, \
                host(source) \
         FROM audit_events WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(access.account_id)
    .bind(page.before)
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    let events = rows
        .into_iter()
        .map(
            |(id, at, action, actor_kind, actor_id, actor, target, details, request_id, source)| {
                AuditEvent {
                    id,
                    at,
                    action,
                    actor_kind,
                    actor_id,
                    actor,
                    target,
                    details,
                    request_id,
                    source,
                }
            },
        )
        .collect();
    let (events, next_before) = page.page(events, |e| e.id);
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}
