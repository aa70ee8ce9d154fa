//! Tokens for clusters: the person's access token exchanged (RFC 8693) for one bound to a
//! cluster's audience, and cached in `cluster-tokens.json` until a minute before it expires.
//! kubectl runs `flotilla exec-credential --cluster` for every command, often many at once;
//! without the cache each would be a request to a rate-limited endpoint.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::api::CLIENT_ID;
use crate::error::{CliError, Result};
use crate::session::{self, Session};
use crate::token_endpoint;

/// RFC 8693's grant and token types.
const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A cached token is used while it has more than this left (seconds): kubectl must not get
/// one that expires on the way to the cluster.
const MARGIN: i64 = 60;

/// The cache. Each token is keyed by its audience, `<server>/clusters/<account>/<cluster>`,
/// so it is never used for another server, account or cluster; it is deleted with the
/// log-in (`configure`, `logout`), so it is never used for another person.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ClusterTokens {
    #[serde(default)]
    tokens: BTreeMap<String, ClusterToken>,
}

/// A token for one cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterToken {
    /// The token (a JWT).
    pub token: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

impl ClusterTokens {
    /// The token for `audience`, if it has more than the margin left.
    fn fresh(&self, audience: &str) -> Option<ClusterToken> {
        let now = Utc::now().timestamp();
        self.tokens
            .get(audience)
            .filter(|t| t.expires_at - now > MARGIN)
            .cloned()
    }

    /// Adds `token`, dropping the expired ones (the file stays as small as the clusters used).
    fn insert(&mut self, audience: String, token: ClusterToken) {
        let now = Utc::now().timestamp();
        self.tokens.retain(|_, t| t.expires_at > now);
        self.tokens.insert(audience, token);
    }
}

/// A token for `cluster` of the session's account: from the cache, or exchanged (the access
/// token refreshed first if need be) and cached.
pub async fn cluster_token(session: &mut Session, cluster: &str) -> Result<ClusterToken> {
    let audience = format!(
        "{}/clusters/{}/{cluster}",
        session.api.server(),
        session.account()
    );
    // Most calls end here, without the lock: the cache is only ever replaced whole.
    if let Some(token) = session.home().cluster_tokens()?.fresh(&audience) {
        return Ok(token);
    }
    let lock = session.home().lock()?;
    // The process that held the lock may have just exchanged one.
    let mut cache = session.home().cluster_tokens()?;
    if let Some(token) = cache.fresh(&audience) {
        return Ok(token);
    }
    let access = session.access_token_locked(&lock).await?;
    let token = exchange(session, &access, &audience).await?;
    cache.insert(audience, token.clone());
    session.home().save_cluster_tokens(&cache, &lock)?;
    Ok(token)
}

/// Exchanges the access token for a token whose audience is `audience`.
async fn exchange(session: &Session, access: &str, audience: &str) -> Result<ClusterToken> {
    let answer = token_endpoint::post(
        &session.api,
        &[
            ("grant_type", EXCHANGE_GRANT),
            ("client_id", CLIENT_ID),
            ("subject_token", access),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("audience", audience),
        ],
    )
    .await?
    .map_err(|e| match e.code.as_str() {
        "invalid_target" => CliError::Refused(e.description),
        _ => CliError::Auth(format!("{} Run `flotilla configure`.", e.description)),
    })?;
    let token = answer["access_token"]
        .as_str()
        .ok_or_else(|| CliError::Server("the exchange answer has no token".into()))?
        .to_owned();
    Ok(ClusterToken {
        token,
        expires_at: session::expires_at(&answer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: i64) -> ClusterToken {
        ClusterToken {
            token: format!("t{expires_in}"),
            expires_at: Utc::now().timestamp() + expires_in,
        }
    }

    #[test]
    fn a_token_is_used_until_a_minute_before_it_expires_and_only_for_its_audience() {
        let mut cache = ClusterTokens::default();
        cache.insert("https://f.example/clusters/acme/eu-1".into(), token(600));
        cache.insert("https://f.example/clusters/acme/eu-2".into(), token(30));
        assert_eq!(
            cache
                .fresh("https://f.example/clusters/acme/eu-1")
                .map(|t| t.token),
            Some("t600".into())
        );
        assert!(cache
            .fresh("https://f.example/clusters/acme/eu-2")
            .is_none());
        assert!(cache
            .fresh("https://f.example/clusters/other/eu-1")
            .is_none());
        assert!(cache
            .fresh("https://g.example/clusters/acme/eu-1")
            .is_none());
    }

    #[test]
    fn expired_tokens_are_dropped() {
        let mut cache = ClusterTokens::default();
        cache.insert("a".into(), token(-1));
        cache.insert("b".into(), token(600));
        assert_eq!(cache.tokens.keys().collect::<Vec<_>>(), ["b"]);
    }
}
