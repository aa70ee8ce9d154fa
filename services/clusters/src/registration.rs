//! `PUT /api/v1/accounts/{account}/clusters/{cluster}`: registering a cluster, idempotently.
//! The same body again changes nothing and says so; a new `identity_ca` is a rotation (the
//! previous CAs stay trusted until removed); a rebuilt cluster re-registers with a token and
//! keeps its name and history. Authorised by an admin, a registration token (which labels
//! the cluster and spends one use per change), or, for a cluster already registered, an
//! assertion of its own agent under a CA it currently trusts.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::bearer::BearerKind;
use flotilla_core::auth::{AccountAccess, Agent, Role};
use flotilla_core::names::ClusterName;
use flotilla_core::{AppContext, Error, FieldError, Problem};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agent;
use crate::assertion;
use crate::certificates::{self, CaCertificate};
use crate::clusters::{self, Cluster};
use crate::labels::{self, Labels};
use crate::registration_tokens::{self, Presented};
use flotilla_core::auth::opaque::hex;

/// Longest server URL.
const MAX_SERVER_LEN: usize = 2048;

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

/// The registration, checked.
struct Checked {
    identity: CaCertificate,
    server: String,
    server_ca: CaCertificate,
    labels: Option<Labels>,
    agent_version: Option<String>,
}

fn check(body: ClusterRegistration, dev: bool) -> Result<Checked, Error> {
    let now = Utc::now();
    let mut errors = Vec::new();
    let identity = certificates::parse_ca_pem(&body.identity_ca, now)
        .map_err(|e| errors.push(FieldError::new("/identity_ca", format!("identity_ca {e}"))))
        .ok();
    let server_ca = match &body.server_ca {
        Some(pem) => certificates::parse_ca_pem(pem, now)
            .map_err(|e| errors.push(FieldError::new("/server_ca", format!("server_ca {e}"))))
            .ok(),
        None => identity.clone(),
    };
    if let Err(e) = check_server(&body.server, dev) {
        errors.push(FieldError::new("/server", e));
    }
    if let Some(labels) = &body.labels {
        errors.extend(labels::check("/labels", labels));
    }
    if let Some(version) = &body.agent_version {
        if let Err(e) = check_agent_version(version) {
            errors.push(FieldError::new("/agent_version", e));
        }
    }
    match (identity, server_ca) {
        (Some(identity), Some(server_ca)) if errors.is_empty() => Ok(Checked {
            identity,
            server: body.server.trim().to_owned(),
            server_ca,
            labels: body.labels,
            agent_version: body.agent_version,
        }),
        _ => Err(Error::Validation(errors)),
    }
}

fn check_server(server: &str, dev: bool) -> Result<(), String> {
    let server = server.trim();
    if server.len() > MAX_SERVER_LEN {
        return Err(format!("must be at most {MAX_SERVER_LEN} characters"));
    }
    let url = url::Url::parse(server).map_err(|e| format!("is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if dev => {}
        "http" => return Err("must use https (http is accepted only in development mode)".into()),
        other => return Err(format!("must be an https URL, not {other}:")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(())
}

/// An agent version: 1-64 printable ASCII characters.
pub fn check_agent_version(version: &str) -> Result<(), String> {
    if version.is_empty() || version.len() > 64 || !version.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be 1-64 printable characters without spaces".into());
    }
    Ok(())
}

/// Who registers.
enum Registrar {
    Member(AccountAccess),
    Token(Presented),
    Agent(Agent),
}

impl Registrar {
    async fn of(
        ctx: &AppContext,
        parts: &mut axum::http::request::Parts,
        account: &str,
        cluster: &str,
    ) -> Result<Self, Error> {
        if let Some(token) = agent::bearer(parts) {
            if BearerKind::of(token) == BearerKind::RegistrationToken {
                let token = registration_tokens::find(&ctx.db, account, token).await?;
                return Ok(Registrar::Token(token));
            }
            if let Some(agent) = assertion::agent_in(ctx, account, token).await {
                let agent = agent?;
                agent::own_cluster(&agent, cluster)?;
                return Ok(Registrar::Agent(agent));
            }
        }
        let access = AccountAccess::from_request_parts(parts, ctx).await?;
        access.require(Role::Admin)?;
        Ok(Registrar::Member(access))
    }

    fn account_id(&self) -> Uuid {
        match self {
            Registrar::Member(access) => access.account_id,
            Registrar::Token(token) => token.account_id,
            Registrar::Agent(agent) => agent.account_id,
        }
    }

    async fn actor(&self, ctx: &AppContext) -> Result<Actor, Error> {
        Ok(match self {
            Registrar::Member(access) => Actor::of(ctx, &access.caller).await?,
            Registrar::Token(token) => Actor::registration_token(token.id, &token.description),
            Registrar::Agent(agent) => Actor::agent(agent),
        })
    }
}

/// The registrar, from the request (the handler's first extractor, before the body).
pub struct RegistrarOf(Registrar);

impl FromRequestParts<AppContext> for RegistrarOf {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        ctx: &AppContext,
    ) -> Result<Self, Error> {
        let (account, cluster) = agent::account_and_cluster(parts, ctx).await?;
        Ok(RegistrarOf(
            Registrar::of(ctx, parts, &account, &cluster).await?,
        ))
    }
}

/// Registers or updates a cluster, idempotently.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/clusters/{cluster}", operation_id = "register_cluster", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name: a DNS label, unique in the account"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: only create; 412 if the cluster exists"),
    ),
    request_body = ClusterRegistration,
    responses(
        (status = 201, description = "Registered a new cluster", body = Registered),
        (status = 200, description = "Updated, rotated, or unchanged (see `outcome`)", body = Registered),
        (status = 401, description = "No credential, or an invalid, used-up or foreign registration token, or a refused assertion", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role, or an agent of another cluster", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-None-Match: *` and the cluster exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, certificate, server URL, label or agent version: each field says what is wrong", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("registration_token" = []), ("cluster_assertion" = [])))]
pub async fn register(
    State(ctx): State<AppContext>,
    RegistrarOf(registrar): RegistrarOf,
    origin: Origin,
    headers: HeaderMap,
    Path(path): Path<(String, String)>,
    Json(body): Json<ClusterRegistration>,
) -> Result<(StatusCode, Json<Registered>), Error> {
    let (account, cluster) = path;
    let name = ClusterName::parse(&cluster)
        .map_err(|e| Error::invalid("cluster", format!("the cluster name {e}")))?;
    let mut checked = check(body, ctx.config.dev)?;
    if let Registrar::Token(token) = &registrar {
        checked.labels = Some(apply_token_labels(checked.labels.take(), &token.labels)?);
    }
    let create_only = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == b"*");
    let actor = registrar.actor(&ctx).await?;
    let account_id = registrar.account_id();
    let mut tx = ctx.db.begin().await?;
    let outcome = match insert(&mut tx, account_id, name.as_str(), &checked, &registrar).await? {
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
                &account,
                name.as_str(),
                &checked,
                &registrar,
            )
            .await?
        }
    };
    if outcome == Outcome::Unchanged {
        tx.rollback().await?;
    } else {
        if let Registrar::Token(token) = &registrar {
            registration_tokens::consume(&mut tx, token.id).await?;
        }
        Entry {
            account_id,
            actor: &actor,
            origin: &origin,
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
    let cluster = clusters::load(&ctx, account_id, &account, Some(name.as_str()))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| clusters::no_such_cluster(&account, name.as_str()))?;
    let status = if outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Registered { outcome, cluster })))
}

/// The token's labels over the body's: asking for another value of one is refused.
fn apply_token_labels(asked: Option<Labels>, fixed: &Labels) -> Result<Labels, Error> {
    let mut labels = asked.unwrap_or_default();
    let mut errors = Vec::new();
    for (key, value) in fixed {
        match labels.get(key) {
            Some(v) if v != value => errors.push(FieldError::new(
                format!("/labels/{}", key.replace('~', "~0").replace('/', "~1")),
                format!("the registration token sets {key}={value}; it cannot be {v:?}"),
            )),
            _ => {
                labels.insert(key.clone(), value.clone());
            }
        }
    }
    if errors.is_empty() {
        Ok(labels)
    } else {
        Err(Error::Validation(errors))
    }
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
    // jsonb goes in as text (the workspace's sqlx has no `json` feature).
    let labels = serde_json::to_string(&checked.labels.clone().unwrap_or_default())
        .map_err(anyhow::Error::from)?;
    let token = match registrar {
        Registrar::Token(token) => Some(token.id),
        _ => None,
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO clusters (id, account_id, name, server, server_ca, identity_ca, labels, \
                               agent_version, registered_by_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9) \
         ON CONFLICT (account_id, name) DO NOTHING RETURNING id",
        Uuid::new_v4(),
        account_id,
        name,
        &checked.server,
        &checked.server_ca.der,
        &checked.identity.sha256[..],
        labels,
        checked.agent_version.as_deref(),
        token,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        add_identity_ca(conn, id, &checked.identity).await?;
    }
    Ok(id)
}

async fn add_identity_ca(
    conn: &mut PgConnection,
    cluster: Uuid,
    ca: &CaCertificate,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO cluster_identity_cas (cluster_id, sha256, certificate, subject) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        cluster,
        &ca.sha256[..],
        &ca.der,
        &ca.subject_der,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(added == 1)
}

/// A registered cluster's row, as `update` locks it.
struct Current {
    id: Uuid,
    server: String,
    server_ca: Vec<u8>,
    identity_ca: Vec<u8>,
    /// The labels' JSON (jsonb read as text: the workspace's sqlx has no `json` feature).
    labels: String,
    agent_version: Option<String>,
    registered_by_token: Option<Uuid>,
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
    let row = sqlx::query_as!(
        Current,
        "SELECT id, server, server_ca, identity_ca, labels::text AS \"labels!\", agent_version, \
                registered_by_token \
         FROM clusters WHERE account_id = $1 AND name = $2 FOR UPDATE",
        account_id,
        name,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(Current {
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
    sqlx::query!(
        "UPDATE clusters SET server = $2, server_ca = $3, identity_ca = $4, labels = $5::text::jsonb, \
                agent_version = $6, registered_by_token = $7, updated_at = now() WHERE id = $1",
        id,
        &checked.server,
        &checked.server_ca.der,
        &checked.identity.sha256[..],
        serde_json::to_string(&labels).map_err(anyhow::Error::from)?,
        agent_version.as_deref(),
        token,
    )
    .execute(&mut *conn)
    .await?;
    if rotated {
        let new = add_identity_ca(conn, id, &checked.identity).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_servers_only_in_development_mode() {
        assert!(check_server("https://203.0.113.10:6443", false).is_ok());
        assert!(check_server("https://k8s.example.com/proxy/c-1", false).is_ok());
        let refused = check_server("http://k8s.example.com", false).unwrap_err();
        assert!(refused.contains("development mode"), "{refused}");
        assert!(check_server("http://127.0.0.1:6443", true).is_ok());
        assert!(check_server("https://", false).is_err());
        assert!(
            check_server(&format!("https://{}.example.com", "a".repeat(2100)), false)
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn token_labels_win_and_conflicts_are_named() {
        let fixed: Labels = [("region".to_owned(), "eu".to_owned())].into();
        let asked: Labels = [("tier".to_owned(), "prod".to_owned())].into();
        let merged = apply_token_labels(Some(asked), &fixed).expect("merged");
        assert_eq!(merged.get("region").map(String::as_str), Some("eu"));
        let clash: Labels = [("region".to_owned(), "us".to_owned())].into();
        assert!(apply_token_labels(Some(clash), &fixed).is_err());
    }
}
