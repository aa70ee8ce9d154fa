//! `PUT /api/v1/accounts/{account}/clusters/{cluster}`: registering a cluster, idempotently.
//! The same body again changes nothing and says so; a new `identity_ca` is a rotation (the
//! previous CAs stay trusted until removed); a rebuilt cluster re-registers with a token and
//! keeps its name and history. Authorised by an admin, a registration token (which labels
//! the cluster and spends one use per change), or, for a cluster already registered, an
//! assertion of its own agent under a CA it currently trusts.
//!
//! Here: the request and answer, and what a registration does. Who registers is decided in
//! `registrar`, the body is checked in `check`, the SQL is in `store`, the endpoint in
//! `handlers`.

pub mod check;
pub mod handlers;
pub mod registrar;
pub mod store;

use flotilla_core::audit::{Entry, Origin};
use flotilla_core::auth::opaque::hex;
use flotilla_core::names::ClusterName;
use flotilla_core::{AppContext, Error};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use self::check::Checked;
use self::registrar::Registrar;
use crate::clusters::{self, Cluster};
use crate::labels::Labels;
use crate::registration_tokens;
use crate::settings::ClusterSettings;

pub use self::check::check_agent_version;

/// A cluster's registration: its public material only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterRegistration {
    /// The cluster's identity CA certificate (PEM, exactly one certificate): its agents'
    /// assertions chain to it, and other clusters trust workloads under `spiffe://<cluster>/`
    /// that it issued.
    #[schema(min_length = 1)]
    pub identity_ca: String,
    /// URL of the cluster's Kubernetes API server (`https://`, with a host, no credentials).
    #[schema(
        example = "https://203.0.113.10:6443",
        pattern = "^https://",
        max_length = 2048
    )]
    pub server: String,
    /// The CA that verifies the API server (PEM); the identity CA when absent.
    #[serde(default)]
    pub server_ca: Option<String>,
    /// Labels (Kubernetes label syntax), e.g. `region`; when absent, the current labels stay.
    #[serde(default)]
    #[schema(schema_with = crate::labels::nullable_schema)]
    pub labels: Option<Labels>,
    /// The agent's version (1-64 printable characters without spaces); when absent, the last
    /// reported one stays.
    #[serde(default)]
    #[schema(pattern = "^[!-~]{1,64}$")]
    pub agent_version: Option<String>,
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A new cluster.
    Created,
    /// Nothing: the registration was already exactly this.
    Unchanged,
    /// The server, its CA, labels or agent version changed.
    Updated,
    /// A new identity CA is current; the previous ones stay trusted until removed.
    Rotated,
}

/// The answer to a registration.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    /// What this request did.
    pub outcome: Outcome,
    /// The cluster as it now is.
    #[serde(flatten)]
    pub cluster: Cluster,
}

/// Registers the cluster `name` of `account` as `checked` asks, for `registrar`, in one
/// transaction with its events, audit entry and the token's use (none when nothing
/// changes); what it did, and the cluster as it now is. `create_only` refuses a cluster
/// already registered. The cluster's status is by the thresholds of `settings`.
// Eight: the request's pieces (who, from where, what, how) and the service's thresholds;
// bundling some of them would only give them a second name.
#[allow(clippy::too_many_arguments)]
pub async fn register_cluster(
    ctx: &AppContext,
    settings: &ClusterSettings,
    registrar: &Registrar,
    origin: &Origin,
    account: &str,
    name: &ClusterName,
    checked: &Checked,
    create_only: bool,
) -> Result<(Outcome, Cluster), Error> {
    let actor = registrar.actor(ctx).await?;
    let account_id = registrar.account_id();
    let mut tx = ctx.db.begin().await?;
    let outcome = match insert(&mut tx, account_id, name.as_str(), checked, registrar).await? {
        Some(id) => {
            clusters::record_event(
                &mut tx,
                id,
                "registered",
                &format!(
                    "registered with identity CA {}",
                    hex(&checked.identity.sha256)
                ),
            )
            .await?;
            Outcome::Created
        }
        None if create_only => {
            return Err(Error::PreconditionFailed(format!(
                "Cluster {name} is already registered (If-None-Match: *)."
            )))
        }
        None => {
            update(
                &mut tx,
                account_id,
                account,
                name.as_str(),
                checked,
                registrar,
            )
            .await?
        }
    };
    if outcome == Outcome::Unchanged {
        tx.rollback().await?;
    } else {
        if let Registrar::Token(token) = registrar {
            registration_tokens::consume(&mut tx, token.id).await?;
        }
        Entry {
            account_id,
            actor: &actor,
            origin,
            action: match outcome {
                Outcome::Created => "cluster.registered",
                Outcome::Rotated => "cluster.rotated",
                _ => "cluster.updated",
            },
            target: name.as_str(),
            details: serde_json::json!({
                "identity_ca_sha256": hex(&checked.identity.sha256),
                "server": checked.server,
            }),
        }
        .record(&mut tx)
        .await?;
        tx.commit().await?;
        // This replica's directory reads its own write at once; the others hear it.
        ctx.changes.bump(account_id);
        tracing::info!(account = %account, cluster = %name, outcome = ?outcome, "cluster registration");
    }
    let cluster = clusters::load(ctx, settings, account_id, account, Some(name.as_str()))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| clusters::no_such_cluster(account, name.as_str()))?;
    Ok((outcome, cluster))
}

/// Inserts a new cluster; `None` when the name is taken (then it is updated instead). Two
/// concurrent registrations of one name serialise here: the second waits for the first to
/// commit, finds the cluster, and becomes an update (or an idempotent no-op).
async fn insert(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
    checked: &Checked,
    registrar: &Registrar,
) -> Result<Option<Uuid>, Error> {
    if matches!(registrar, Registrar::Agent(_)) {
        // An assertion can only come from a registered cluster.
        return Ok(None);
    }
    let labels = serde_json::to_string(&checked.labels.clone().unwrap_or_default())
        .map_err(anyhow::Error::from)?;
    let token = match registrar {
        Registrar::Token(token) => Some(token.id),
        _ => None,
    };
    let record = store::Record {
        server: &checked.server,
        server_ca: &checked.server_ca.der,
        identity_ca: &checked.identity.sha256,
        labels: &labels,
        agent_version: checked.agent_version.as_deref(),
        registered_by_token: token,
    };
    let id = store::insert_cluster(&mut *conn, account_id, name, &record).await?;
    if let Some(id) = id {
        store::add_identity_ca(conn, id, &checked.identity).await?;
    }
    Ok(id)
}

/// Updates a registered cluster to `checked`, under a row lock; says what changed.
async fn update(
    conn: &mut PgConnection,
    account_id: Uuid,
    account: &str,
    name: &str,
    checked: &Checked,
    registrar: &Registrar,
) -> Result<Outcome, Error> {
    let row = store::lock_current(&mut *conn, account_id, name).await?;
    let Some(store::Current {
        id,
        server,
        server_ca,
        identity_ca,
        labels,
        agent_version: old_version,
        registered_by_token: by_token,
    }) = row
    else {
        // Deregistered since the assertion was verified.
        return Err(clusters::no_such_cluster(account, name));
    };
    let current_labels: Labels = serde_json::from_str(&labels).unwrap_or_default();
    let labels = checked
        .labels
        .clone()
        .unwrap_or_else(|| current_labels.clone());
    let agent_version = checked
        .agent_version
        .clone()
        .or_else(|| old_version.clone());
    let mut changed = Vec::new();
    if checked.server != server {
        changed.push("server");
    }
    if checked.server_ca.der != server_ca {
        changed.push("server_ca");
    }
    if labels != current_labels {
        changed.push("labels");
    }
    if agent_version != old_version {
        changed.push("agent_version");
    }
    let rotated = checked.identity.sha256[..] != identity_ca[..];
    if let Registrar::Agent(agent) = registrar {
        // Both CAs are honoured during a rotation, but only the current one may change the
        // registration: an earlier CA's key must not be able to take the cluster back.
        if agent.ca[..] != identity_ca[..] && (rotated || !changed.is_empty()) {
            return Err(Error::Forbidden(
                "Only an assertion under the cluster's current identity CA may change its \
                 registration; this one chains to an earlier CA."
                    .into(),
            ));
        }
    }
    if !rotated && changed.is_empty() {
        if let Registrar::Token(token) = registrar {
            // A retry by the token that made the registration needs no use left.
            if !token.uses_left && by_token != Some(token.id) {
                return Err(Error::Unauthorized(
                    "The registration token has no registrations left.".into(),
                ));
            }
        }
        return Ok(Outcome::Unchanged);
    }
    let token = match registrar {
        Registrar::Token(token) => Some(token.id),
        _ => by_token,
    };
    let labels = serde_json::to_string(&labels).map_err(anyhow::Error::from)?;
    let record = store::Record {
        server: &checked.server,
        server_ca: &checked.server_ca.der,
        identity_ca: &checked.identity.sha256,
        labels: &labels,
        agent_version: agent_version.as_deref(),
        registered_by_token: token,
    };
    store::update_cluster(&mut *conn, id, &record).await?;
    if rotated {
        let new = store::add_identity_ca(conn, id, &checked.identity).await?;
        let detail = format!(
            "identity CA {} is current{}; earlier CAs stay trusted until removed",
            hex(&checked.identity.sha256),
            if new { "" } else { " again" }
        );
        clusters::record_event(conn, id, "rotated", &detail).await?;
    }
    if !changed.is_empty() {
        clusters::record_event(
            conn,
            id,
            "updated",
            &format!("changed: {}", changed.join(", ")),
        )
        .await?;
    }
    Ok(if rotated {
        Outcome::Rotated
    } else {
        Outcome::Updated
    })
}
