//! Cluster assertions: how an agent proves it speaks for a cluster without Flotilla holding
//! any secret of it. The assertion is a short-lived JWT signed with the key of a leaf
//! certificate that the cluster's identity CA issued; the header's `x5c` carries the leaf
//! (and any intermediates), which must chain to one of the cluster's trusted identity CAs.
//!
//! The header is read by hand first, so that a refused algorithm (`none`, HMAC) is named in
//! the answer; then the chain is checked with `x509-parser`, and the signature and times with
//! `jsonwebtoken`, pinned to the one algorithm the leaf's key allows.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use flotilla_core::auth::bearer::BearerKind;
use flotilla_core::auth::{opaque, Agent};
use flotilla_core::{AppContext, Error};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;
use x509_parser::certificate::X509Certificate;

use crate::certificates::{self, KeyKind};

/// Longest lifetime (`exp - iat`) of an assertion.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated on `iat`, `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;
/// Longest assertion accepted (a chain of a few RSA certificates fits easily).
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;
/// Most certificates in `x5c`.
const MAX_CHAIN: usize = 5;

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

/// The header fields read before anything is trusted.
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    x5c: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Claims {
    aud: serde_json::Value,
    sub: String,
    iat: i64,
    exp: i64,
}

/// The token's JOSE header, if it has one that reads as JSON.
fn raw_header(token: &str) -> Option<RawHeader> {
    let encoded = token.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()
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

/// An identity CA that an assertion's chain may end at.
struct Anchor {
    account_id: Uuid,
    cluster_id: Uuid,
    cluster: String,
    certificate: Vec<u8>,
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
    // The CAs named in the chain first (the subject index), then their clusters: the
    // planner, left to itself, may walk every cluster of the account instead and look for
    // their CAs, which its statistics make look cheap right after a burst of registrations
    // (measured: 50-110 ms per lookup at 15,000 clusters, stalling a fleet's heartbeats).
    let anchors = sqlx::query_as!(
        Anchor,
        "WITH named AS MATERIALIZED (\
             SELECT cluster_id, certificate FROM cluster_identity_cas WHERE subject = ANY($2)) \
         SELECT a.id AS account_id, c.id AS cluster_id, c.name AS cluster, \
                named.certificate AS \"certificate!\" FROM named \
         JOIN clusters c ON c.id = named.cluster_id JOIN accounts a ON a.id = c.account_id \
         WHERE a.name = $1",
        account,
        &names,
    )
    .fetch_all(&ctx.db)
    .await?;
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

/// The pinned algorithm and the DER certificates of `x5c`.
fn read_header(header: RawHeader) -> Result<(Algorithm, Vec<Vec<u8>>), Refusal> {
    let alg = match header.alg.as_deref() {
        Some("ES256") => Algorithm::ES256,
        Some("ES384") => Algorithm::ES384,
        Some("RS256") => Algorithm::RS256,
        Some("PS256") => Algorithm::PS256,
        Some(other) => {
            return Err(Refusal::new(
                "algorithm",
                format!("alg {other:?} is not accepted; sign with ES256, ES384, RS256 or PS256"),
            ))
        }
        None => return Err(Refusal::new("algorithm", "the header has no alg")),
    };
    // Only a header with x5c reaches here (see `verify`).
    let x5c = header.x5c.unwrap_or_default();
    if x5c.is_empty() || x5c.len() > MAX_CHAIN {
        return Err(Refusal::new(
            "chain",
            format!(
                "x5c must hold 1 to {MAX_CHAIN} certificates (got {})",
                x5c.len()
            ),
        ));
    }
    let chain = x5c
        .iter()
        .enumerate()
        .map(|(i, c)| {
            STANDARD.decode(c).map_err(|_| {
                Refusal::new(
                    "chain",
                    format!("x5c[{i}] is not standard base64 of a DER certificate"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((alg, chain))
}

/// Checks that the leaf chains through the intermediates to one of `anchors`; returns that
/// anchor and the leaf.
fn check_chain<'c, 'a>(
    certs: &'c [X509Certificate<'c>],
    ders: &[Vec<u8>],
    anchors: &'a [Anchor],
    now: chrono::DateTime<Utc>,
) -> Result<(&'a Anchor, &'c X509Certificate<'c>), Refusal> {
    let chain_err = |detail: String| Refusal::new("chain", detail);
    // An agent may include the identity CA itself at the end of x5c; it proves nothing and
    // is set aside, but must be byte for byte one of the registered CAs.
    let mut certs = certs;
    let mut included: Option<&Anchor> = None;
    if let Some(last_der) = ders.last() {
        if let Some(anchor) = anchors.iter().find(|a| &a.certificate == last_der) {
            included = Some(anchor);
            certs = &certs[..certs.len() - 1];
        }
    }
    let (leaf, intermediates) = certs.split_first().ok_or_else(|| {
        chain_err(
            "x5c holds only the identity CA; sign with a leaf certificate that the CA issued"
                .into(),
        )
    })?;
    certificates::check_validity(leaf, now).map_err(|e| chain_err(format!("the leaf {e}")))?;
    if let Ok(Some(usage)) = leaf.key_usage() {
        if !usage.value.digital_signature() {
            return Err(chain_err(
                "the leaf's keyUsage does not allow digitalSignature".into(),
            ));
        }
    }
    let mut child = leaf;
    for (i, intermediate) in intermediates.iter().enumerate() {
        certificates::check_ca(intermediate, now)
            .map_err(|e| chain_err(format!("x5c[{}] (an intermediate) {e}", i + 1)))?;
        check_path_len(intermediate, i).map_err(chain_err)?;
        certificates::verify_issued_by(child, intermediate)
            .map_err(|e| chain_err(format!("x5c is not a chain: {e}")))?;
        child = intermediate;
    }
    let candidates: Vec<&Anchor> = match included {
        Some(anchor) => vec![anchor],
        None => anchors.iter().collect(),
    };
    // The anchor is the candidate whose key verifies the top of the chain; only then do its
    // own validity and constraints decide, so the answer names the real problem. A chain
    // that verifies under none gets the same answer as one naming no CA of the account, so
    // that nobody learns which CA subjects an account has.
    for anchor in candidates {
        let Ok(ca) = certificates::parse_der(&anchor.certificate) else {
            continue;
        };
        if certificates::verify_issued_by(child, &ca).is_err() {
            continue;
        }
        certificates::check_validity(&ca, now)
            .map_err(|e| format!("the identity CA of cluster {} {e}", anchor.cluster))
            .and_then(|()| check_path_len(&ca, intermediates.len()))
            .map_err(chain_err)?;
        return Ok((anchor, leaf));
    }
    Err(not_in_account())
}

/// Refuses a CA whose pathLenConstraint forbids `below` intermediates under it.
fn check_path_len(ca: &X509Certificate<'_>, below: usize) -> Result<(), String> {
    if let Ok(Some(bc)) = ca.basic_constraints() {
        if let Some(max) = bc.value.path_len_constraint {
            if below > max as usize {
                return Err(format!(
                    "{} allows {max} intermediate CA(s) below it, the chain has {below}",
                    ca.subject()
                ));
            }
        }
    }
    Ok(())
}

/// The leaf's key as `jsonwebtoken` wants it, and its kind.
fn leaf_key(leaf: &X509Certificate<'_>) -> Result<(KeyKind, DecodingKey), Refusal> {
    let spki = leaf.public_key();
    let kind =
        certificates::key_kind(spki).map_err(|e| Refusal::new("chain", format!("the leaf {e}")))?;
    let raw = &spki.subject_public_key.data;
    let key =
        match kind {
            // For ECDSA, ring (under jsonwebtoken) takes the uncompressed point; for RSA, the
            // PKCS#1 RSAPublicKey: each exactly the subjectPublicKey bits of the certificate.
            KeyKind::P256 | KeyKind::P384 => DecodingKey::from_ec_der(raw),
            KeyKind::Rsa(_) => DecodingKey::from_rsa_der(raw),
            KeyKind::Ed25519 => return Err(Refusal::new(
                "algorithm",
                "the leaf has an Ed25519 key; sign assertions with an EC P-256/P-384 or RSA key",
            )),
        };
    Ok((kind, key))
}

/// Verifies the signature with the leaf's key under the one algorithm that key allows, and
/// the claims: audience, lifetime, times.
fn check_token(
    token: &str,
    alg: Algorithm,
    kind: KeyKind,
    key: &DecodingKey,
    audience: &str,
    now: i64,
) -> Result<Claims, Refusal> {
    let fits = matches!(
        (kind, alg),
        (KeyKind::P256, Algorithm::ES256)
            | (KeyKind::P384, Algorithm::ES384)
            | (KeyKind::Rsa(_), Algorithm::RS256 | Algorithm::PS256)
    );
    if !fits {
        return Err(Refusal::new(
            "algorithm",
            format!("alg {alg:?} does not fit the leaf's {kind} key"),
        ));
    }
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_aud = false;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iat", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => Refusal::new(
                "expired",
                format!("exp is more than {LEEWAY_SECS} s in the past"),
            ),
            ErrorKind::ImmatureSignature => Refusal::new("expired", "nbf is in the future"),
            ErrorKind::InvalidSignature => Refusal::new(
                "signature",
                "the signature does not verify with the leaf certificate's key",
            ),
            ErrorKind::MissingRequiredClaim(c) => {
                Refusal::new("claims", format!("the {c} claim is missing"))
            }
            ErrorKind::InvalidAlgorithm => Refusal::new(
                "algorithm",
                format!("alg {alg:?} does not fit the leaf's {kind} key"),
            ),
            _ => Refusal::new("format", format!("the token cannot be read ({e})")),
        })?
        .claims;
    let exact = match &claims.aud {
        serde_json::Value::String(aud) => aud == audience,
        serde_json::Value::Array(auds) => auds.len() == 1 && auds[0].as_str() == Some(audience),
        _ => false,
    };
    if !exact {
        return Err(Refusal::new(
            "audience",
            format!("aud must be exactly {audience:?} (this server's public URL)"),
        ));
    }
    if claims.exp <= claims.iat || claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(Refusal::new(
            "lifetime",
            format!(
                "exp - iat must be between 1 and {MAX_LIFETIME_SECS} s (got {} s)",
                claims.exp - claims.iat
            ),
        ));
    }
    if claims.iat > now + LEEWAY_SECS as i64 {
        return Err(Refusal::new(
            "expired",
            format!("iat is more than {LEEWAY_SECS} s in the future; check the agent's clock"),
        ));
    }
    Ok(claims)
}

/// The subject is the caller's identity; a SPIFFE ID must lie in the cluster's trust domain.
fn check_subject(sub: &str, cluster: &str) -> Result<(), Refusal> {
    if sub.is_empty() || sub.len() > 2048 || sub.chars().any(char::is_control) {
        return Err(Refusal::new(
            "claims",
            "sub must be 1-2048 characters without control characters",
        ));
    }
    if let Some(rest) = sub.strip_prefix("spiffe://") {
        let domain = rest.split('/').next().unwrap_or_default();
        if domain != cluster {
            return Err(Refusal::new(
                "claims",
                format!("sub {sub:?} is not in this cluster's trust domain spiffe://{cluster}/"),
            ));
        }
    }
    Ok(())
}
