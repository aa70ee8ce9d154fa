//! Who may register a cluster, from the request: a registration token of the account, the
//! cluster's own agent (by an assertion), or else an admin of the account.

use axum::extract::FromRequestParts;
use flotilla_core::audit::Actor;
use flotilla_core::auth::bearer::BearerKind;
use flotilla_core::auth::{AccountAccess, Agent, Role};
use flotilla_core::{AppContext, Error};
use uuid::Uuid;

use crate::agent;
use crate::assertion;
use crate::registration_tokens::{self, Presented};

/// Who registers.
pub enum Registrar {
    /// An admin of the account.
    Member(AccountAccess),
    /// A registration token of the account.
    Token(Presented),
    /// The cluster's own agent (only for a cluster already registered).
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

    /// The account the registration is for.
    pub fn account_id(&self) -> Uuid {
        match self {
            Registrar::Member(access) => access.account_id,
            Registrar::Token(token) => token.account_id,
            Registrar::Agent(agent) => agent.account_id,
        }
    }

    /// Who the audit log names.
    pub async fn actor(&self, ctx: &AppContext) -> Result<Actor, Error> {
        Ok(match self {
            Registrar::Member(access) => Actor::of(ctx, &access.caller).await?,
            Registrar::Token(token) => Actor::registration_token(token.id, &token.description),
            Registrar::Agent(agent) => Actor::agent(agent),
        })
    }
}

/// The registrar, from the request (the handler's first extractor, before the body).
pub struct RegistrarOf(pub Registrar);

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
