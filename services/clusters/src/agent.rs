//! Extractors for the endpoints agents call: the agent of the cluster named in the path, or
//! that agent or a member of the account. An assertion for cluster `C` never acts for another
//! cluster, and one of account `A` reaches nothing of account `B`.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use flotilla_core::auth::{AccountAccess, Agent, Role};
use flotilla_core::{AppContext, Error};

use crate::assertion;

/// The bearer token of the request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The request path's parameters `names`, in that order.
pub async fn path_params<const N: usize>(
    parts: &mut Parts,
    ctx: &AppContext,
    names: [&str; N],
) -> Result<[String; N], Error> {
    let params = RawPathParams::from_request_parts(parts, ctx)
        .await
        .map_err(|_| Error::Internal(anyhow::anyhow!("no path parameters")))?;
    let mut values = names.map(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no {{{name}}} in the path")))?;
    }
    Ok(values)
}

/// The request path's `{account}` and `{cluster}`.
pub async fn account_and_cluster(
    parts: &mut Parts,
    ctx: &AppContext,
) -> Result<(String, String), Error> {
    let [account, cluster] = path_params(parts, ctx, ["account", "cluster"]).await?;
    Ok((account, cluster))
}

/// The agent of the cluster named in the path, authenticated by a cluster assertion.
#[derive(Debug, Clone)]
pub struct AgentOf(pub Agent);

impl FromRequestParts<AppContext> for AgentOf {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Error> {
        let (account, cluster) = account_and_cluster(parts, ctx).await?;
        let token = bearer(parts).ok_or_else(assertion::not_an_assertion)?;
        // A reused assertion is found in the cache before anything is parsed.
        let agent = assertion::authenticate(ctx, &account, token).await?;
        own_cluster(&agent, &cluster)?;
        Ok(AgentOf(agent))
    }
}

/// Refuses an agent acting for another cluster than its own.
pub fn own_cluster(agent: &Agent, cluster: &str) -> Result<(), Error> {
    if agent.cluster == cluster {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "This assertion speaks for cluster {}; it cannot act for cluster {cluster:?}.",
            agent.cluster
        )))
    }
}

/// The answer to an agent whose cluster was deregistered after its assertion was checked
/// (a request racing the deregistration).
pub fn no_longer_registered() -> Error {
    Error::Unauthorized("This cluster is no longer registered.".into())
}

/// A member of the path's account (viewer or more), or the agent of the path's cluster.
#[derive(Debug, Clone)]
pub enum Reader {
    /// A person or API token of the account.
    Member(AccountAccess),
    /// The cluster's own agent.
    Agent(Agent),
}

impl FromRequestParts<AppContext> for Reader {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Error> {
        let (account, cluster) = account_and_cluster(parts, ctx).await?;
        if let Some(agent) = match bearer(parts) {
            Some(token) => assertion::agent_in(ctx, &account, token).await,
            None => None,
        } {
            let agent = agent?;
            own_cluster(&agent, &cluster)?;
            return Ok(Reader::Agent(agent));
        }
        let access = AccountAccess::from_request_parts(parts, ctx).await?;
        access.require(Role::Viewer)?;
        Ok(Reader::Member(access))
    }
}

impl Reader {
    /// The account's id.
    pub fn account_id(&self) -> uuid::Uuid {
        match self {
            Reader::Member(access) => access.account_id,
            Reader::Agent(agent) => agent.account_id,
        }
    }

    /// The account's name.
    pub fn account(&self) -> &str {
        match self {
            Reader::Member(access) => &access.account,
            Reader::Agent(agent) => &agent.account,
        }
    }
}
