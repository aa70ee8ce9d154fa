//! Who may read an account's directory: its members (viewer or more), and the agent of any of
//! its clusters (a cluster assertion verified against the path's account). This is the one
//! place an assertion of cluster `C` reaches beyond `C`: read-only lookups of its own account.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use flotilla_clusters::agent::bearer;
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
        // A polling agent's reused assertion is recognised before anything is parsed.
        let known = bearer(parts).and_then(|token| assertion::recognise(ctx, token));
        if known.is_some() || bearer(parts).is_some_and(assertion::looks_like_assertion) {
            let params = RawPathParams::from_request_parts(parts, ctx)
                .await
                .map_err(|_| Error::Internal(anyhow::anyhow!("no path parameters")))?;
            let account = params
                .iter()
                .find(|(key, _)| *key == "account")
                .map(|(_, value)| value)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("no {{account}} in the path")))?;
            let agent = match known {
                Some(agent) => assertion::in_account(agent, account)?,
                None => {
                    let token = bearer(parts).unwrap_or_default();
                    assertion::authenticate(ctx, account, token).await?
                }
            };
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
