//! `GET .../dns/endpoints`, `GET .../dns/records` and `GET .../dns/changes`: what the agents
//! report for the account's hosts, what Flotilla plans for them and whether the provider holds
//! it, and the history of changes sent for them. Members
//! (viewer or more) read them; nothing of another account is ever selected.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::{AppContext, Error, Problem};
use serde::{Deserialize, Serialize};
use sqlx::types::Json as Jsonb;
use utoipa::{IntoParams, ToSchema};

use crate::endpoints::store::StoredEndpoint;
use crate::endpoints::EndpointView;
use crate::providers::zone_of;
use crate::reconciler::changes::ActionView;
use crate::records::RecordData;

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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn records(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Path(_account): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Result<Json<RecordList>, Error> {
    access.require(Role::Viewer)?;
    let zone = zone_of(&ctx.config);
    type Row = (
        String,
        String,
        String,
        String,
        Option<Jsonb<RecordData>>,
        Option<Jsonb<RecordData>>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT host, name, type, set_id, desired, applied, quarantine FROM dns_record_sets \
         WHERE zone = $1 AND account_id = $2 AND ($3::text IS NULL OR host = lower(trim(trailing '.' from $3))) \
         ORDER BY host, name, type, set_id",
    )
    .bind(&zone)
    .bind(access.account_id)
    .bind(&query.host)
    .fetch_all(&ctx.db)
    .await?;
    let records = rows
        .into_iter()
        .map(
            |(host, name, rtype, set_id, desired, applied, quarantine)| {
                let is_applied = desired.as_ref().map(|d| &d.0) == applied.as_ref().map(|a| &a.0);
                let status = match (&quarantine, is_applied) {
                    (_, true) => "applied",
                    (Some(_), false) => "quarantined",
                    (None, false) => "pending",
                };
                RecordView {
                    host,
                    name,
                    rtype,
                    set_identifier: (!set_id.is_empty()).then_some(set_id),
                    planned: desired.map(|d| d.0),
                    applied: is_applied,
                    status: status.into(),
                    error: quarantine.filter(|_| !is_applied),
                }
            },
        )
        .collect();
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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn endpoints(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    Path(_account): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Result<Json<EndpointList>, Error> {
    access.require(Role::Viewer)?;
    #[derive(sqlx::FromRow)]
    struct Row {
        cluster: String,
        region: Option<String>,
        #[sqlx(flatten)]
        endpoint: StoredEndpoint,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.host, c.name AS cluster, c.labels ->> 'region' AS region, e.targets, e.weight, \
                e.healthy, e.updated_at \
         FROM dns_endpoints e JOIN clusters c ON c.id = e.cluster_id \
         WHERE e.account_id = $1 AND ($2::text IS NULL OR e.host = lower(trim(trailing '.' from $2))) \
         ORDER BY e.host, c.name",
    )
    .bind(access.account_id)
    .bind(&query.host)
    .fetch_all(&ctx.db)
    .await?;
    let endpoints = rows
        .into_iter()
        .map(|row| EndpointView::of(row.endpoint, &row.cluster, row.region))
        .collect();
    Ok(Json(EndpointList { endpoints }))
}

/// One change of one host.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
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
    #[sqlx(json)]
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
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
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
    let rows: Vec<ChangeView> = sqlx::query_as(
        "SELECT id, host, status, failover, actions, provider_change_id, attempts, error, \
                learned_at, submitted_at, completed_at \
         FROM dns_changes WHERE account_id = $1 AND ($2::bigint IS NULL OR id < $2) \
           AND ($3::text IS NULL OR status = $3) \
           AND ($4::text IS NULL OR host = lower(trim(trailing '.' from $4))) \
         ORDER BY id DESC LIMIT $5",
    )
    .bind(access.account_id)
    .bind(page.before)
    .bind(&query.status)
    .bind(&query.host)
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    let (changes, next_before) = page.page(rows, |c| c.id);
    Ok(Json(ChangeList {
        changes,
        next_before,
    }))
}
