//! Who may read an account's directory: its members (viewer or more), and the agent of any of
//! its clusters (a cluster assertion verified against the path's account). This is the one
//! place an assertion of cluster `C` reaches beyond `C`: read-only lookups of its own account.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use flotilla_clusters::agent::{bearer, path_params};
use flotilla_clusters::assertion;
use flotilla_core::auth::{AccountAccess, Role};
use flotilla_core::{AppContext, Error};
use uuid::Uuid;

/// A reader of the path's account directory.
#[derive(Debug, Clone)]
pub struct DirectoryReader {
    /// The account's id.
    pub account_id: Uuid,
    /// The account's name.
    pub account: String,
}

impl FromRequestParts<AppContext> for DirectoryReader {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Error> {
        let [account] = path_params(parts, ctx, ["account"]).await?;
        if let Some(agent) = match bearer(parts) {
            Some(token) => assertion::agent_in(ctx, &account, token).await,
            None => None,
        } {
            let agent = agent?;
            return Ok(Self {
                account_id: agent.account_id,
                account: agent.account,
            });
        }
        let access = AccountAccess::from_request_parts(parts, ctx).await?;
        access.require(Role::Viewer)?;
        Ok(Self {
            account_id: access.account_id,
            account: access.account,
        })
    }
}
