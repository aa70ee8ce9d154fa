//! Registered clusters as people and agents see them: what is shown of a cluster, its
//! identity CAs and its events; reading them (members, or the cluster's own agent),
//! deregistering (admins), and removing an identity CA that a rotation replaced. The SQL is
//! in `store`, the endpoints in `handlers`; registering is in `registration`.

pub mod handlers;
pub mod store;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::{commit_change, AccountAccess};
use flotilla_core::http::paging::PageQuery;
use flotilla_core::removal::Removal;
use flotilla_core::{AppContext, Error};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agent::Reader;
use crate::certificates;
use crate::labels::Labels;
use crate::settings::ClusterSettings;
use crate::status::Status;
use flotilla_core::auth::opaque::hex;

/// Where other services record a cluster's events in their own transactions.
pub use self::store::record_event;

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

/// Loads clusters of `account_id` (one, when `name` is given), with their identity CAs and
/// their status now by the thresholds of `settings`.
pub async fn load(
    ctx: &AppContext,
    settings: &ClusterSettings,
    account_id: Uuid,
    account: &str,
    name: Option<&str>,
) -> Result<Vec<Cluster>, Error> {
    let mut conn = ctx.db.acquire().await?;
    let rows = store::rows(&mut conn, account_id, name).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut by_cluster: HashMap<Uuid, Vec<store::StoredCa>> = HashMap::new();
    for ca in store::identity_cas(&mut conn, &ids).await? {
        by_cluster.entry(ca.cluster_id).or_default().push(ca);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut identity_cas: Vec<IdentityCa> = by_cluster
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|ca| IdentityCa {
                    current: certificates::sha256(&ca.certificate)[..] == row.identity_ca[..],
                    certificate: CertificateInfo::of(&ca.certificate),
                    added_at: ca.added_at,
                })
                .collect();
            identity_cas.sort_by_key(|ca| !ca.current);
            Cluster {
                spiffe_prefix: format!("spiffe://{}/", row.name),
                account: account.to_owned(),
                status: Status::now(&row.status, row.silence, settings),
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
    Error::NotFound(missing_cluster(account, cluster))
}

/// What the 404 for a cluster the account does not have says.
fn missing_cluster(account: &str, cluster: &str) -> String {
    let shown: String = cluster.chars().take(63).collect();
    format!("Account {account} has no cluster named {shown:?}.")
}

/// The 404 for an identity CA the cluster does not trust (or a fingerprint that is not one).
pub fn no_such_identity_ca(cluster: &str, sha256: &str) -> Error {
    Error::NotFound(missing_identity_ca(cluster, sha256))
}

/// What the 404 for an identity CA the cluster does not trust says.
fn missing_identity_ca(cluster: &str, sha256: &str) -> String {
    format!(
        "Cluster {cluster:?} has no identity CA with SHA-256 fingerprint {:?}.",
        sha256.chars().take(64).collect::<String>()
    )
}

/// Deregisters the cluster `cluster` of the caller's account, with its audit entry; every
/// replica cuts its agents off at once.
pub async fn deregister_cluster(
    ctx: &AppContext,
    access: &AccountAccess,
    actor: &Actor,
    origin: &Origin,
    cluster: &str,
) -> Result<(), Error> {
    let mut tx = ctx.db.begin().await?;
    let (id, server) = store::delete(&mut tx, access.account_id, cluster)
        .await?
        .or_not_found(|| missing_cluster(&access.account, cluster))?;
    Entry {
        account_id: access.account_id,
        actor,
        origin,
        action: "cluster.deregistered",
        target: cluster,
        details: serde_json::json!({ "id": id, "server": server }),
    }
    .record(&mut tx)
    .await?;
    commit_change(ctx, tx, "cluster").await?;
    ctx.changes.bump(access.account_id);
    tracing::info!(account = %access.account, cluster = %cluster, "cluster deregistered");
    Ok(())
}

/// Stops trusting the identity CA of `cluster` whose SHA-256 is `fingerprint` (`sha256`, as
/// the caller wrote it), with its event and audit entry. The current CA cannot be removed.
pub async fn stop_trusting_identity_ca(
    ctx: &AppContext,
    reader: &Reader,
    actor: &Actor,
    origin: &Origin,
    cluster: &str,
    sha256: &str,
    fingerprint: &[u8],
) -> Result<(), Error> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock_identity_ca(&mut tx, reader.account_id(), cluster).await?;
    let (id, current) = row.ok_or_else(|| no_such_cluster(reader.account(), cluster))?;
    if current == fingerprint {
        return Err(Error::Conflict(
            "This is the cluster's current identity CA; register its successor first (PUT the \
             cluster with the new identity_ca), then remove this one."
                .into(),
        ));
    }
    store::delete_identity_ca(&mut tx, id, fingerprint)
        .await?
        .or_not_found(|| missing_identity_ca(cluster, sha256))?;
    let detail = format!("identity CA {sha256} removed: no longer trusted");
    record_event(&mut tx, id, "identity-ca-removed", &detail).await?;
    Entry {
        account_id: reader.account_id(),
        actor,
        origin,
        action: "cluster.identity-ca-removed",
        target: cluster,
        details: serde_json::json!({ "sha256": sha256 }),
    }
    .record(&mut tx)
    .await?;
    commit_change(ctx, tx, "cluster").await?;
    ctx.changes.bump(reader.account_id());
    Ok(())
}

/// A page of `limit` events (at most) of the reader's cluster `cluster`, newest first.
pub async fn events_page(
    ctx: &AppContext,
    reader: &Reader,
    cluster: &str,
    page: &PageQuery,
    limit: i64,
) -> Result<ClusterEvents, Error> {
    let mut conn = ctx.db.acquire().await?;
    let id = store::id_of(&mut conn, reader.account_id(), cluster).await?;
    let id = id.ok_or_else(|| no_such_cluster(reader.account(), cluster))?;
    let events = store::events(&mut conn, id, page.before, limit + 1).await?;
    let (events, next_before) = page.page(events, |e| e.id);
    Ok(ClusterEvents {
        events,
        next_before,
    })
}

/// The bytes of a SHA-256 fingerprint written as 64 hex digits.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}
