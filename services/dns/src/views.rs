//! `GET .../dns/endpoints`, `GET .../dns/records` and `GET .../dns/changes`: what the agents
//! report for the account's hosts, what Flotilla plans for them and whether the provider holds
//! it, and the history of changes sent for them. Members
//! (viewer or more) read them; nothing of another account is ever selected. The SQL is in the
//! stores of what is read: `endpoints::store`, `reconciler::sets` and `reconciler::changes`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::http::problem_responses::NotAuthenticated;
use flotilla_core::{AppContext, Error, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::endpoints::{store as endpoint_store, EndpointView};
use crate::providers::zone_of;
use crate::reconciler::changes::{self, ActionView, HistoryFilter, StoredChange};
use crate::reconciler::sets::{self, StoredSet};
use crate::records::RecordData;
use crate::responses::NoSuchAccount;
use crate::Dns;

/// One record set of a host.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    /// The host it serves.
    pub host: String,
    /// The set's name, qualified.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// The set identifier (region of a latency set, cluster of a weighted one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    /// What Flotilla plans there; absent when the set is being removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<RecordData>,
    /// Whether the provider holds exactly the plan.
    pub applied: bool,
    /// `applied`, `pending` (not yet applied) or `quarantined` (the provider refused it).
    pub status: String,
    /// Why it is quarantined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RecordView {
    /// The view of a stored set.
    fn of(set: StoredSet) -> Self {
        let desired = set.desired.map(|d| d.0);
        let applied = set.applied.map(|a| a.0);
        let is_applied = desired == applied;
        let status = match (&set.quarantine, is_applied) {
            (_, true) => "applied",
            (Some(_), false) => "quarantined",
            (None, false) => "pending",
        };
        RecordView {
            host: set.host,
            name: set.name,
            rtype: set.rtype,
            set_identifier: (!set.set_id.is_empty()).then_some(set.set_id),
            planned: desired,
            applied: is_applied,
            status: status.into(),
            error: set.quarantine.filter(|_| !is_applied),
        }
    }
}

/// The account's record sets.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordList {
    /// The zone they live in (provider and zone).
    pub zone: String,
    /// Record sets, by host and name.
    pub records: Vec<RecordView>,
}

/// Filters of the record list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Only this host's sets.
    pub host: Option<String>,
}

/// The planned record sets of the account's hosts and whether each is applied.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/dns/records", operation_id = "dns_records", tag = "dns",
    params(("account" = String, Path, description = "The account's name"), RecordQuery),
    responses(
        (status = 200, description = "The record sets", body = RecordList),
        NotAuthenticated,
        NoSuchAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn records(
    State(ctx): State<AppContext>,
    Extension(dns): Extension<Arc<Dns>>,
    access: AccountAccess,
    Path(_account): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Result<Json<RecordList>, Error> {
    access.require(Role::Viewer)?;
    let zone = zone_of(&dns.settings, &ctx.config.dns_base_domain);
    let mut conn = ctx.db.acquire().await?;
    let sets = sets::of_account(&mut conn, &zone, access.account_id, query.host.as_deref()).await?;
    let records = sets.into_iter().map(RecordView::of).collect();
    Ok(Json(RecordList { zone, records }))
}

/// The account's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// Every endpoint of every cluster, by host and cluster.
    pub endpoints: Vec<EndpointView>,
}

/// What the account's agents report for its hosts: each cluster's targets, weight and health.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/dns/endpoints", operation_id = "dns_endpoints", tag = "dns",
    params(("account" = String, Path, description = "The account's name"), RecordQuery),
    responses(
        (status = 200, description = "The endpoints", body = EndpointList),
        NotAuthenticated,
        NoSuchAccount,
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn endpoints(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Path(_account): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Result<Json<EndpointList>, Error> {
    access.require(Role::Viewer)?;
    let mut conn = ctx.db.acquire().await?;
    let rows =
        endpoint_store::of_account(&mut conn, access.account_id, query.host.as_deref()).await?;
    let endpoints = rows
        .into_iter()
        .map(|row| EndpointView::of(row.endpoint, &row.cluster, row.region))
        .collect();
    Ok(Json(EndpointList { endpoints }))
}

/// One change of one host.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// The change's id (a cursor for paging).
    pub id: i64,
    /// The host.
    pub host: String,
    /// `pending` (queued, or sent and not yet answered), `applied`, `failed` (its outcome was
    /// lost; what is missing was sent again) or `quarantined` (refused by the provider or the
    /// preflight check; see `error`).
    pub status: String,
    /// Whether it took an endpoint out (such changes go first).
    pub failover: bool,
    /// What it does (or would do) to each record set.
    pub actions: Vec<ActionView>,
    /// The provider's id for the request that applied it (Route53's `/change/...`).
    pub provider_change_id: Option<String>,
    /// Requests made for it.
    pub attempts: i32,
    /// The last error: why it is quarantined, or why the last attempt failed.
    pub error: Option<String>,
    /// When Flotilla learned what made the change (the report, or the cluster leaving `ready`).
    pub learned_at: DateTime<Utc>,
    /// When it was last sent.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the provider acknowledged it (or it was quarantined or failed).
    pub completed_at: Option<DateTime<Utc>>,
}

impl ChangeView {
    /// The view of a stored change row.
    fn of(row: StoredChange) -> Self {
        ChangeView {
            id: row.id,
            host: row.host,
            status: row.status,
            failover: row.failover,
            actions: row.actions.0,
            provider_change_id: row.provider_change_id,
            attempts: row.attempts,
            error: row.error,
            learned_at: row.learned_at,
            submitted_at: row.submitted_at,
            completed_at: row.completed_at,
        }
    }
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    /// Newest first.
    pub changes: Vec<ChangeView>,
    /// The `before` of the next page, if there is one.
    pub next_before: Option<i64>,
}

/// The statuses a change may have (read as text, so that another one is refused with a
/// message naming them).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ChangeStatus {
    /// Queued, or sent and not yet answered.
    Pending,
    /// Applied by the provider.
    Applied,
    /// Its outcome was lost; what is missing was sent again.
    Failed,
    /// Refused by the provider or the plan.
    Quarantined,
}

/// Filters of the change history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// Only changes with this status.
    #[param(value_type = Option<ChangeStatus>, inline)]
    pub status: Option<String>,
    /// Only this host's changes.
    pub host: Option<String>,
}

/// The history of the changes sent (or queued) for the account's hosts, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/dns/changes", operation_id = "dns_changes", tag = "dns",
    params(("account" = String, Path, description = "The account's name"), PageQuery, ChangeQuery),
    responses(
        (status = 200, description = "A page of changes", body = ChangeList),
        NotAuthenticated,
        NoSuchAccount,
        (status = 422, description = "A bad filter or page size", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn changes(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Path(_account): Path<String>,
    Query(page): Query<PageQuery>,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<ChangeList>, Error> {
    access.require(Role::Viewer)?;
    let limit = page.limit()?;
    if let Some(status) = &query.status {
        if !["pending", "applied", "failed", "quarantined"].contains(&status.as_str()) {
            return Err(Error::invalid(
                "status",
                "must be pending, applied, failed or quarantined",
            ));
        }
    }
    let filter = HistoryFilter {
        before: page.before,
        status: query.status.as_deref(),
        host: query.host.as_deref(),
        limit: limit + 1,
    };
    let mut conn = ctx.db.acquire().await?;
    let rows: Vec<ChangeView> = changes::of_account(&mut conn, access.account_id, filter)
        .await?
        .into_iter()
        .map(ChangeView::of)
        .collect();
    let (changes, next_before) = page.page(rows, |c| c.id);
    Ok(Json(ChangeList {
        changes,
        next_before,
    }))
}
