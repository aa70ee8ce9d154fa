//! Cluster assertions: how an agent proves it speaks for a cluster without Flotilla holding
//! any secret of it. The assertion is a short-lived JWT signed with the key of a leaf
//! certificate that the cluster's identity CA issued; the header's `x5c` carries the leaf
//! (and any intermediates), which must chain to one of the cluster's trusted identity CAs.
//!
//! The header is read by hand first, so that a refused algorithm (`none`, HMAC) is named in
//! the answer; then the chain is checked with `x509-parser`, and the signature and times with
//! `jsonwebtoken`, pinned to the one algorithm the leaf's key allows.
//!
//! Here: the entry points and the order of the checks. The header and the chain are checked
//! in `chain`, the claims in `claims`; the SQL is in `store`.

mod chain;
mod claims;
mod store;

use std::time::{Duration, Instant};

use chrono::Utc;
use flotilla_core::auth::bearer::BearerKind;
use flotilla_core::auth::{opaque, Agent};
use flotilla_core::{AppContext, Error};

use self::chain::{check_chain, leaf_key, raw_header, read_header};
use self::claims::{check_subject, check_token};
use crate::certificates;

/// Longest lifetime (`exp - iat`) of an assertion.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated on `iat`, `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;
/// Longest assertion accepted (a chain of a few RSA certificates fits easily).
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;

/// Why an assertion was refused: a short reason (`expired`, `audience`, `chain`,
/// `algorithm`, `signature`, `claims`, `format`) and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The reason, one word.
    pub reason: &'static str,
    /// The explanation.
    pub detail: String,
}

impl Refusal {
    fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    /// The refusal as a 401.
    pub fn into_error(self) -> Error {
        Error::Unauthorized(format!(
            "Cluster assertion refused ({}): {}",
            self.reason, self.detail
        ))
    }
}

/// The agent `token` speaks for in `account` when `token` is a cluster assertion; `None` for
/// any other kind of bearer token. A reused assertion this replica verified before is
/// recognised by one hash and one lookup, before anything is parsed: the whole cost of a
/// polling agent's request.
pub async fn agent_in(
    ctx: &AppContext,
    account: &str,
    token: &str,
) -> Option<Result<Agent, Error>> {
    if ctx.auth.listening.is_on() {
        if let Some(agent) = ctx.auth.agents.get(&opaque::hash_array(token)) {
            return Some(in_account(agent, account));
        }
    }
    if BearerKind::of(token) != BearerKind::ClusterAssertion {
        return None;
    }
    Some(authenticate(ctx, account, token).await)
}

/// `agent`, if it belongs to `account` (an assertion never authenticates in another).
fn in_account(agent: Agent, account: &str) -> Result<Agent, Error> {
    if agent.account == account {
        Ok(agent)
    } else {
        Err(not_in_account().into_error())
    }
}

/// Verifies `token` as an assertion of a cluster of `account`, through the cache: a verified
/// assertion is remembered until its `exp`.
pub async fn authenticate(ctx: &AppContext, account: &str, token: &str) -> Result<Agent, Error> {
    let key = opaque::hash_array(token);
    let agent = ctx
        .auth
        .remember(&ctx.auth.agents, key, || async {
            let found = verify(ctx, account, token).await?;
            Ok::<_, Error>(found)
        })
        .await?;
    in_account(agent, account)
}

fn not_in_account() -> Refusal {
    Refusal::new(
        "chain",
        "the certificate chain does not lead to an identity CA of any cluster of this account",
    )
}

/// The answer to a request that carries no assertion where one is needed.
pub fn not_an_assertion() -> Error {
    Error::Unauthorized(
        "This endpoint is for cluster agents: send a cluster assertion (a JWT whose header \
         carries the x5c chain) as `Authorization: Bearer <assertion>`."
            .into(),
    )
}

async fn verify(ctx: &AppContext, account: &str, token: &str) -> Result<(Agent, Instant), Error> {
    if token.len() > MAX_ASSERTION_BYTES {
        return Err(Refusal::new(
            "format",
            format!("an assertion may be at most {MAX_ASSERTION_BYTES} bytes"),
        )
        .into_error());
    }
    let header = raw_header(token)
        .filter(|h| h.x5c.is_some())
        .ok_or_else(not_an_assertion)?;
    let (alg, chain) = read_header(header).map_err(Refusal::into_error)?;
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            certificates::parse_der(der)
                .map_err(|e| Refusal::new("chain", format!("x5c[{i}] {e}")).into_error())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let last = certs
        .last()
        .ok_or_else(|| Refusal::new("chain", "x5c holds no certificate").into_error())?;
    let names = vec![
        last.issuer().as_raw().to_vec(),
        last.subject().as_raw().to_vec(),
    ];
    let anchors = store::anchors(&mut *ctx.db.acquire().await?, account, &names).await?;
    let now = Utc::now();
    let (anchor, leaf) = check_chain(&certs, &chain, &anchors, now).map_err(Refusal::into_error)?;
    let (kind, key) = leaf_key(leaf).map_err(Refusal::into_error)?;
    let claims = check_token(token, alg, kind, &key, ctx.config.issuer(), now.timestamp())
        .map_err(Refusal::into_error)?;
    check_subject(&claims.sub, &anchor.cluster).map_err(Refusal::into_error)?;
    let agent = Agent {
        account_id: anchor.account_id,
        account: account.to_owned(),
        cluster_id: anchor.cluster_id,
        cluster: anchor.cluster.clone(),
        subject: claims.sub,
        expires_at: claims.exp,
        ca: certificates::sha256(&anchor.certificate),
    };
    let left = claims
        .exp
        .saturating_sub(now.timestamp())
        .clamp(0, MAX_LIFETIME_SECS);
    Ok((
        agent,
        Instant::now() + Duration::from_secs(left.unsigned_abs()),
    ))
}
