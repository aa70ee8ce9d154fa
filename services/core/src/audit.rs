//! The audit log: who did what to an account, when, from where, under which request. Every
//! service writes its entries in the transaction of the change itself, so an entry exists
//! exactly when the change does.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{credentials, Agent, Caller, Principal};
use crate::context::AppContext;
use crate::error::Result;
use crate::http::client_addr;
use crate::http::edge::X_REQUEST_ID;

/// Where a request came from: its id and the peer's address.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The request id (`x-request-id`).
    pub request_id: Option<String>,
    /// The client's address (behind trusted proxies, the one they forwarded).
    pub source: Option<IpAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin {
            request_id: parts
                .headers
                .get(&X_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            source: Some(client_addr::of(parts)).filter(|a| !a.is_unspecified()),
        })
    }
}

/// Who acted.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `person`, `api-token`, `registration-token` or `cluster`.
    pub kind: &'static str,
    /// The person's, token's or cluster's id.
    pub id: Option<Uuid>,
    /// How it is shown: an email, a token's name, a cluster and its agent's identity.
    pub label: String,
}

impl Actor {
    /// The authenticated caller: a person (shown by email) or an API token (by name).
    pub async fn of(ctx: &AppContext, caller: &Caller) -> Result<Self> {
        Ok(match &caller.principal {
            Principal::Person { id, .. } => Actor::person(ctx, *id).await?,
            Principal::ApiToken { id, name, .. } => Actor {
                kind: "api-token",
                id: Some(*id),
                label: format!("API token {name:?}"),
            },
        })
    }

    /// A person, shown by email (or name).
    pub async fn person(ctx: &AppContext, id: Uuid) -> Result<Self> {
        let profile = credentials::profile(&ctx.auth, &ctx.db, id).await?;
        Ok(Actor {
            kind: "person",
            id: Some(id),
            label: profile
                .email
                .clone()
                .or_else(|| profile.name.clone())
                .unwrap_or_else(|| id.to_string()),
        })
    }

    /// A registration token, shown by its description.
    pub fn registration_token(id: Uuid, description: &str) -> Self {
        Actor {
            kind: "registration-token",
            id: Some(id),
            label: format!("registration token {description:?}"),
        }
    }

    /// A cluster's agent, shown by cluster and identity.
    pub fn agent(agent: &Agent) -> Self {
        Actor {
            kind: "cluster",
            id: Some(agent.cluster_id),
            label: format!("cluster {} ({})", agent.cluster, agent.subject),
        }
    }
}

/// One entry: `actor` did `action` to `target` (a cluster, a token, a member) in `account`.
#[derive(Debug)]
pub struct Entry<'a> {
    /// The account.
    pub account_id: Uuid,
    /// Who.
    pub actor: &'a Actor,
    /// From where.
    pub origin: &'a Origin,
    /// What, as `noun.verb`: `cluster.registered`, `api-token.revoked`, ...
    pub action: &'a str,
    /// To what.
    pub target: &'a str,
    /// Anything else worth keeping (never a secret).
    pub details: Value,
}

impl Entry<'_> {
    /// Writes the entry in the change's transaction.
    pub async fn record(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        // `details` and `source` go in as text (no `json` or `ipnetwork` feature in sqlx).
        sqlx::query!(
            "INSERT INTO audit_events \
             (account_id, action, actor_kind, actor_id, actor, target, details, request_id, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9::text::inet)",
            self.account_id,
            self.action,
            self.actor.kind,
            self.actor.id,
            &self.actor.label,
            self.target,
            self.details.to_string(),
            self.origin.request_id.as_deref(),
            self.origin.source.map(|ip| ip.to_string()),
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}
