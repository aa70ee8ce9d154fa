//! Authentication for every service: one extractor that accepts a browser session, one of
//! Flotilla's access tokens or an account's API token, and yields who is calling and their
//! role in the account named by the path. A member of one account gets 404 on every path of
//! another, exactly as if it did not exist.

pub mod access_token;
mod agent;
pub mod bearer;
pub mod cache;
pub mod credentials;
pub mod csrf;
pub mod opaque;
mod role;

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use uuid::Uuid;

pub use agent::Agent;
pub use credentials::{Carrier, Membership, Principal, Profile};
pub use role::Role;

use crate::context::AppContext;
use crate::error::{Error, Result};
use access_token::KeySet;
use cache::{ExpiringMap, Generation, Listening};

/// The per-replica authentication state: verification keys and caches.
#[derive(Default)]
pub struct AuthState {
    /// Flotilla's published token-verification keys.
    pub keys: KeySet,
    /// Whether change announcements are heard (caches usable).
    pub listening: Listening,
    generation: Generation,
    credentials: ExpiringMap<[u8; 32], Principal>,
    profiles: ExpiringMap<Uuid, Arc<Profile>>,
    /// Verified cluster assertions, by the SHA-256 of the assertion.
    pub agents: ExpiringMap<[u8; 32], Agent>,
}

impl AuthState {
    /// How many times the caches were forgotten (bumped by each announcement heard and by
    /// each change this replica made): a test waits on it to know an announcement arrived.
    #[cfg(feature = "test-support")]
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    /// Forgets cached credentials and memberships (and keys, when they changed). Called for
    /// every announcement, and directly by the replica that made a change. A verified
    /// assertion depends only on its cluster's identity CAs, so only a change of clusters
    /// (or a missed announcement, `""`) forgets agents: a person's log-in or token refresh
    /// must not send a whole fleet back to the database at once.
    pub fn forget(&self, what: &str) {
        self.generation.bump();
        self.credentials.clear();
        self.profiles.clear();
        if what.is_empty() || what == "cluster" {
            self.agents.clear();
        }
        if what.is_empty() || what == "keys" {
            self.keys.invalidate();
        }
    }
}

impl AuthState {
    /// The value `map` holds for `key`, or the one `verify` finds, kept until the instant it
    /// returns (bounded by the cache's maximum age). The cache is only used while this
    /// replica hears change announcements, and a change announced during `verify` keeps its
    /// result out of the cache.
    pub async fn remember<K, V, E, F, Fut>(
        &self,
        map: &ExpiringMap<K, V>,
        key: K,
        verify: F,
    ) -> Result<V, E>
    where
        K: Eq + std::hash::Hash,
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(V, std::time::Instant), E>>,
    {
        let seen = self.generation.current();
        let listening = self.listening.is_on();
        if listening {
            if let Some(value) = map.get(&key) {
                return Ok(value);
            }
        }
        let (value, until) = verify().await?;
        if listening {
            map.insert(key, value.clone(), until, &self.generation, seen);
        }
        Ok(value)
    }
}

/// Commits `tx` with an announcement that `what` changed, and forgets this replica's caches
/// at once (other replicas forget when the announcement reaches them).
pub async fn commit_change(
    ctx: &AppContext,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    what: &str,
) -> Result<(), sqlx::Error> {
    cache::announce(&mut tx, what).await?;
    tx.commit().await?;
    ctx.auth.forget(what);
    Ok(())
}

/// Keeps this replica's caches in step with every replica's changes (runs until the end).
pub async fn run_listener(ctx: AppContext) {
    let auth = ctx.auth.clone();
    cache::listen(ctx.listen_db.clone(), &ctx.auth.listening, |what| {
        auth.forget(what)
    })
    .await;
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub principal: Principal,
    /// How the credential came.
    pub carrier: Carrier,
}

impl Caller {
    /// The person calling, unless it is an API token.
    pub fn person(&self) -> Option<Uuid> {
        match self.principal {
            Principal::Person { id, .. } => Some(id),
            Principal::ApiToken { .. } => None,
        }
    }

    /// The person behind a browser session: `None` for bearer tokens, which cannot consent or
    /// approve on a page.
    pub fn browser_person(&self) -> Option<Uuid> {
        match (self.carrier, &self.principal) {
            (Carrier::Cookie, Principal::Person { id, .. }) => Some(*id),
            _ => None,
        }
    }

    /// The person calling, or 403 for an API token (for person-only operations).
    pub fn require_person(&self) -> Result<Uuid> {
        self.person().ok_or_else(|| {
            Error::Forbidden("This operation needs a person's log-in, not an API token.".into())
        })
    }

    /// The caller's role in `account`, if it is theirs.
    pub async fn membership(&self, ctx: &AppContext, account: &str) -> Result<Option<Membership>> {
        match &self.principal {
            Principal::Person { id, .. } => Ok(credentials::profile(&ctx.auth, &ctx.db, *id)
                .await?
                .memberships
                .iter()
                .find(|m| m.account == account)
                .cloned()),
            Principal::ApiToken {
                account_id,
                account: own,
                role,
                ..
            } => Ok((own == account).then(|| Membership {
                account_id: *account_id,
                account: own.clone(),
                role: *role,
            })),
        }
    }
}

impl FromRequestParts<AppContext> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self> {
        let config = &ctx.config;
        let found =
            credentials::authenticate(&ctx.auth, &ctx.db, config.issuer(), config.dev, parts)
                .await?;
        let (principal, carrier) = found.ok_or_else(|| {
            Error::Unauthorized(
                "Log in, or send `Authorization: Bearer <token>` with an access or API token."
                    .into(),
            )
        })?;
        if carrier == Carrier::Cookie {
            csrf::check(parts, &config.public_url, config.dev)?;
        }
        Ok(Caller { principal, carrier })
    }
}

/// The caller and their role in the account named by the path's `{account}`.
#[derive(Debug, Clone)]
pub struct AccountAccess {
    /// Who is calling.
    pub caller: Caller,
    /// The account's id.
    pub account_id: Uuid,
    /// The account's name.
    pub account: String,
    /// The caller's role there.
    pub role: Role,
}

impl AccountAccess {
    /// Refuses (403) a caller below `role`.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "This needs the {role} role in account {}; you are {} {}.",
                self.account,
                if self.role == Role::Admin { "an" } else { "a" },
                self.role
            )))
        }
    }
}

impl FromRequestParts<AppContext> for AccountAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self> {
        let params = RawPathParams::from_request_parts(parts, ctx)
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("no path parameters")))?;
        let name = params
            .iter()
            .find(|(key, _)| *key == "account")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no {{account}} in the path")))?;
        let caller = Caller::from_request_parts(parts, ctx).await?;
        let membership = caller
            .membership(ctx, &name)
            .await?
            .ok_or_else(|| no_such_account(&name))?;
        Ok(AccountAccess {
            caller,
            account_id: membership.account_id,
            account: membership.account,
            role: membership.role,
        })
    }
}

/// The answer for an account that does not exist or that the caller is not a member of: the
/// same in both cases, so account names cannot be probed.
pub fn no_such_account(name: &str) -> Error {
    let shown: String = name.chars().take(63).collect();
    Error::NotFound(format!(
        "There is no account named {shown:?} that you can see."
    ))
}

/// `Option<Caller>`: `None` without a credential or with one that no longer works (an ended
/// session), for pages that then send the browser to log in.
impl axum::extract::OptionalFromRequestParts<AppContext> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Option<Self>> {
        match <Caller as FromRequestParts<AppContext>>::from_request_parts(parts, ctx).await {
            Ok(caller) => Ok(Some(caller)),
            Err(Error::Unauthorized(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn agent() -> Agent {
        Agent {
            account_id: Uuid::nil(),
            account: "acme".into(),
            cluster_id: Uuid::nil(),
            cluster: "eu-1".into(),
            subject: "spiffe://eu-1/ns/admiralty/id/agent".into(),
            expires_at: 0,
            ca: [0; 32],
        }
    }

    #[test]
    fn only_a_change_of_clusters_or_a_missed_announcement_forgets_agents() {
        let auth = AuthState::default();
        let remember = |auth: &AuthState| {
            let seen = auth.generation.current();
            let until = Instant::now() + Duration::from_secs(60);
            auth.agents
                .insert([1; 32], agent(), until, &auth.generation, seen);
        };
        remember(&auth);
        for what in ["grant", "session", "api-token", "membership", "keys"] {
            auth.forget(what);
            assert!(auth.agents.get(&[1; 32]).is_some(), "forgotten on {what:?}");
        }
        for what in ["cluster", ""] {
            remember(&auth);
            auth.forget(what);
            assert!(auth.agents.get(&[1; 32]).is_none(), "kept on {what:?}");
        }
    }
}
