//! Registered clusters as people and agents see them: listing and reading (members, or the
//! cluster's own agent), deregistering (admins), removing an identity CA that a rotation
//! replaced, and the cluster's events.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::{commit_change, AccountAccess, Role};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::{AppContext, Error, Problem};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agent::{own_cluster, Reader};
use crate::certificates;
use crate::labels::Labels;
use crate::status::Status;
use flotilla_core::auth::opaque::hex;

/// What Flotilla shows of a certificate it holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateInfo {
    /// SHA-256 fingerprint of the DER, lower-case hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// The subject name.
    pub subject: String,
    /// The key: `EC P-256`, `EC P-384`, `RSA 2048-bit`, `Ed25519`.
    pub key: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
}

impl CertificateInfo {
    /// The description of a stored DER certificate.
    pub fn of(der: &[u8]) -> Self {
        let sha256 = hex(&certificates::sha256(der));
        match certificates::parse_der(der) {
            Ok(cert) => {
                let (not_before, not_after) = certificates::validity(&cert);
                CertificateInfo {
                    sha256,
                    subject: cert.subject().to_string(),
                    key: certificates::key_kind(cert.public_key())
                        .map_or_else(|_| "unknown".into(), |k| k.to_string()),
                    not_before,
                    not_after,
                }
            }
            // Only validated certificates are stored; this is for completeness.
            Err(_) => CertificateInfo {
                sha256,
                subject: String::new(),
                key: "unknown".into(),
                not_before: DateTime::<Utc>::MIN_UTC,
                not_after: DateTime::<Utc>::MIN_UTC,
            },
        }
    }
}

/// An identity CA that agents of the cluster may chain to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityCa {
    /// The certificate.
    #[serde(flatten)]
    pub certificate: CertificateInfo,
    /// Whether it is the one the last registration named (the others are older CAs still
    /// trusted until removed).
    pub current: bool,
    /// When it was first registered.
    pub added_at: DateTime<Utc>,
}

/// A registered cluster.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cluster {
    /// The cluster's name: a DNS label, unique in the account, and its SPIFFE trust domain.
    pub name: String,
    /// The account.
    pub account: String,
    /// SPIFFE ID prefix of its workloads: `spiffe://<cluster>/`.
    #[schema(example = "spiffe://eu-1/")]
    pub spiffe_prefix: String,
    /// URL of its Kubernetes API server.
    pub server: String,
    /// The CA that verifies the API server.
    pub server_ca: CertificateInfo,
    /// The identity CAs its agents may chain to, current first.
    pub identity_cas: Vec<IdentityCa>,
    /// Its labels (`region` places it for latency-based DNS).
    #[schema(inline)]
    pub labels: Labels,
    /// The agent's version, as last reported.
    pub agent_version: Option<String>,
    /// `ready`, `stale` or `offline`, from the time since the last heartbeat.
    pub status: Status,
    /// When the status last changed.
    pub status_changed_at: DateTime<Utc>,
    /// When the last heartbeat came.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Figures the agent reported with its last heartbeat.
    #[schema(value_type = Option<Object>)]
    pub figures: Option<serde_json::Value>,
    /// When it was first registered.
    pub registered_at: DateTime<Utc>,
    /// When its registration last changed.
    pub updated_at: DateTime<Utc>,
}

/// A cluster's row, as `load` selects it.
struct ClusterRow {
    id: Uuid,
    name: String,
    server: String,
    server_ca: Vec<u8>,
    identity_ca: Vec<u8>,
    /// The labels' JSON (jsonb read as text: the workspace's sqlx has no `json` feature).
    labels: String,
    agent_version: Option<String>,
    status: String,
    status_changed_at: DateTime<Utc>,
    last_heartbeat_at: Option<DateTime<Utc>>,
    /// Seconds since the last heartbeat, by the database's clock.
    silence: Option<f64>,
    /// The figures' JSON, as text.
    figures: Option<String>,
    registered_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Loads clusters of `account_id` (one, when `name` is given), with their identity CAs.
pub async fn load(
    ctx: &AppContext,
    account_id: Uuid,
    account: &str,
    name: Option<&str>,
) -> Result<Vec<Cluster>, Error> {
    // Two statements rather than `name = $2 OR $2 IS NULL`, which would hide the
    // (account_id, name) index from the planner and scan every cluster of the account.
    let rows: Vec<ClusterRow> = match name {
        Some(name) => {
            sqlx::query_as!(
                ClusterRow,
                "SELECT id, name, server, server_ca, identity_ca, labels::text AS \"labels!\", \
                        agent_version, status, status_changed_at, last_heartbeat_at, \
                        extract(epoch FROM now() - last_heartbeat_at)::float8 AS silence, \
                        figures::text AS figures, registered_at, updated_at \
                 FROM clusters WHERE account_id = $1 AND name = $2",
                account_id,
                name,
            )
            .fetch_all(&ctx.db)
            .await?
        }
        None => {
            sqlx::query_as!(
                ClusterRow,
                "SELECT id, name, server, server_ca, identity_ca, labels::text AS \"labels!\", \
                        agent_version, status, status_changed_at, last_heartbeat_at, \
                        extract(epoch FROM now() - last_heartbeat_at)::float8 AS silence, \
                        figures::text AS figures, registered_at, updated_at \
                 FROM clusters WHERE account_id = $1 ORDER BY name",
                account_id,
            )
            .fetch_all(&ctx.db)
            .await?
        }
    };
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    type StoredCa = (Vec<u8>, DateTime<Utc>);
    let cas = sqlx::query!(
        "SELECT cluster_id, certificate, added_at FROM cluster_identity_cas \
         WHERE cluster_id = ANY($1) ORDER BY added_at DESC",
        &ids,
    )
    .fetch_all(&ctx.db)
    .await?;
    let mut by_cluster: HashMap<Uuid, Vec<StoredCa>> = HashMap::new();
    for ca in cas {
        by_cluster
            .entry(ca.cluster_id)
            .or_default()
            .push((ca.certificate, ca.added_at));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut identity_cas: Vec<IdentityCa> = by_cluster
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(der, added_at)| IdentityCa {
                    current: certificates::sha256(&der)[..] == row.identity_ca[..],
                    certificate: CertificateInfo::of(&der),
                    added_at,
                })
                .collect();
            identity_cas.sort_by_key(|ca| !ca.current);
            Cluster {
                spiffe_prefix: format!("spiffe://{}/", row.name),
                account: account.to_owned(),
                status: Status::now(&row.status, row.silence, &ctx.config),
                name: row.name,
                server: row.server,
                server_ca: CertificateInfo::of(&row.server_ca),
                identity_cas,
                labels: serde_json::from_str(&row.labels).unwrap_or_default(),
                agent_version: row.agent_version,
                status_changed_at: row.status_changed_at,
                last_heartbeat_at: row.last_heartbeat_at,
                figures: row.figures.and_then(|f| serde_json::from_str(&f).ok()),
                registered_at: row.registered_at,
                updated_at: row.updated_at,
            }
        })
        .collect())
}

/// The 404 for a cluster the account does not have.
pub fn no_such_cluster(account: &str, cluster: &str) -> Error {
    let shown: String = cluster.chars().take(63).collect();
    Error::NotFound(format!("Account {account} has no cluster named {shown:?}."))
}

/// Lists the account's clusters, by name (members).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters", operation_id = "list_clusters", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The clusters, by name", body = [Cluster]),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<Cluster>>, Error> {
    access.require(Role::Viewer)?;
    Ok(Json(
        load(&ctx, access.account_id, &access.account, None).await?,
    ))
}

/// Reads a cluster (members, or the cluster's own agent).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "get_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 200, description = "The cluster", body = Cluster),
        (status = 401, description = "No credential, or a refused one (a refused cluster assertion says why)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An agent of another cluster", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or cluster", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn get(
    State(ctx): State<AppContext>,
    reader: Reader,
    Path(path): Path<(String, String)>,
) -> Result<Json<Cluster>, Error> {
    let cluster = path.1;
    let found = load(&ctx, reader.account_id(), reader.account(), Some(&cluster)).await?;
    found
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| no_such_cluster(reader.account(), &cluster))
}

/// Deregisters a cluster (admins): its CAs, events and (later) endpoints go with it, and its
/// agents are cut off at once on every replica.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "deregister_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 204, description = "Deregistered"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or cluster", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn deregister(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let cluster = path.1;
    access.require(Role::Admin)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let gone = sqlx::query!(
        "DELETE FROM clusters WHERE account_id = $1 AND name = $2 RETURNING id, server",
        access.account_id,
        &cluster,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let gone = gone.ok_or_else(|| no_such_cluster(&access.account, &cluster))?;
    let (id, server) = (gone.id, gone.server);
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "cluster.deregistered",
        target: &cluster,
        details: serde_json::json!({ "id": id, "server": server }),
    }
    .record(&mut tx)
    .await?;
    commit_change(&ctx, tx, "cluster").await?;
    ctx.changes.bump(access.account_id);
    tracing::info!(account = %access.account, cluster = %cluster, "cluster deregistered");
    Ok(StatusCode::NO_CONTENT)
}

/// Stops trusting an identity CA that a rotation replaced (admins, or the cluster's own
/// agent); agents chaining to it are cut off at once. The current CA cannot be removed.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/clusters/{cluster}/identity-cas/{sha256}", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        ("sha256" = String, Path, description = "The CA's SHA-256 fingerprint, hex"),
    ),
    responses(
        (status = 204, description = "Removed: no longer trusted"),
        (status = 403, description = "Needs the admin role or the cluster's own agent", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, cluster or CA", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It is the current identity CA", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn remove_identity_ca(
    State(ctx): State<AppContext>,
    reader: Reader,
    origin: Origin,
    Path(path): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    let (_, cluster, sha256) = path;
    let actor = match &reader {
        Reader::Member(access) => {
            access.require(Role::Admin)?;
            Actor::of(&ctx, &access.caller).await?
        }
        Reader::Agent(agent) => {
            own_cluster(agent, &cluster)?;
            Actor::agent(agent)
        }
    };
    let not_found = || {
        Error::NotFound(format!(
            "Cluster {cluster:?} has no identity CA with SHA-256 fingerprint {:?}.",
            sha256.chars().take(64).collect::<String>()
        ))
    };
    let fingerprint = parse_hex(&sha256).ok_or_else(not_found)?;
    let mut tx = ctx.db.begin().await?;
    let row = sqlx::query!(
        "SELECT id, identity_ca FROM clusters WHERE account_id = $1 AND name = $2 FOR UPDATE",
        reader.account_id(),
        &cluster,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or_else(|| no_such_cluster(reader.account(), &cluster))?;
    let (id, current) = (row.id, row.identity_ca);
    if current == fingerprint {
        return Err(Error::Conflict(
            "This is the cluster's current identity CA; register its successor first (PUT the \
             cluster with the new identity_ca), then remove this one."
                .into(),
        ));
    }
    let removed = sqlx::query!(
        "DELETE FROM cluster_identity_cas WHERE cluster_id = $1 AND sha256 = $2",
        id,
        &fingerprint,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(not_found());
    }
    let detail = format!("identity CA {sha256} removed: no longer trusted");
    record_event(&mut tx, id, "identity-ca-removed", &detail).await?;
    Entry {
        account_id: reader.account_id(),
        actor: &actor,
        origin: &origin,
        action: "cluster.identity-ca-removed",
        target: &cluster,
        details: serde_json::json!({ "sha256": sha256 }),
    }
    .record(&mut tx)
    .await?;
    commit_change(&ctx, tx, "cluster").await?;
    ctx.changes.bump(reader.account_id());
    Ok(StatusCode::NO_CONTENT)
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Records an event of `cluster` in the change's transaction.
pub async fn record_event(
    conn: &mut PgConnection,
    cluster: Uuid,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cluster_events (cluster_id, kind, detail) VALUES ($1, $2, $3)",
        cluster,
        kind,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One thing that happened to a cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterEvent {
    /// Its id (newer events have larger ids; pass as `before` for the next page).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `registered`, `updated`, `rotated`, `identity-ca-removed` or `status`.
    pub kind: String,
    /// What happened.
    pub detail: String,
}

/// A page of cluster events.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterEvents {
    /// The events, newest first.
    pub events: Vec<ClusterEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A cluster's events, newest first (members, or the cluster's own agent).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/events", operation_id = "cluster_events", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of events", body = ClusterEvents),
        (status = 404, description = "No such account or cluster", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn events(
    State(ctx): State<AppContext>,
    reader: Reader,
    Path(path): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ClusterEvents>, Error> {
    let cluster = path.1;
    let limit = page.limit()?;
    let id = sqlx::query_scalar!(
        "SELECT id FROM clusters WHERE account_id = $1 AND name = $2",
        reader.account_id(),
        &cluster,
    )
    .fetch_optional(&ctx.db)
    .await?;
    let id = id.ok_or_else(|| no_such_cluster(reader.account(), &cluster))?;
    let events = sqlx::query_as!(
        ClusterEvent,
        "SELECT id, at, kind, detail FROM cluster_events \
         WHERE cluster_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        id,
        page.before,
        limit + 1,
    )
    .fetch_all(&ctx.db)
    .await?;
    let (events, next_before) = page.page(events, |e| e.id);
    Ok(Json(ClusterEvents {
        events,
        next_before,
    }))
}
