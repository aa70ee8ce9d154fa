//! `GET /api/v1/accounts/{account}/audit`: who did what to the account, newest first, for
//! its admins. The entries are written by each service in the transaction of the change
//! (see `flotilla_core::audit`); `store` reads them and `handlers` serves them.

mod handlers;
pub mod store;

// `lib.rs` registers the handler (with utoipa's `__path_audit`) as `audit::audit`.
pub use handlers::*;

use chrono::{DateTime, Utc};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::AppContext;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

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

/// A page of the account's audit log, newest first.
async fn read_page(ctx: &AppContext, account: Uuid, page: &PageQuery) -> Result<AuditPage> {
    let limit = page.limit()?;
    let rows = store::page(
        &mut *ctx.db.acquire().await?,
        account,
        page.before,
        limit + 1,
    )
    .await?;
    let events = rows
        .into_iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.id,
                at: row.at,
                action: row.action,
                actor_kind: row.actor_kind,
                actor_id: row.actor_id,
                actor: row.actor,
                target: row.target,
                details: serde_json::from_str(&row.details).map_err(Error::internal)?,
                request_id: row.request_id,
                source: row.source,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (events, next_before) = page.page(events, |e| e.id);
    Ok(AuditPage {
        events,
        next_before,
    })
}
