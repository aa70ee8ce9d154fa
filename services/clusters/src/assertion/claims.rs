//! The claims of an assertion: its signature under the one algorithm the leaf's key allows,
//! its audience, lifetime and times, and its subject.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{Refusal, LEEWAY_SECS, MAX_LIFETIME_SECS};
use crate::certificates::KeyKind;

/// The claims an assertion must carry.
#[derive(Deserialize)]
pub(super) struct Claims {
    aud: serde_json::Value,
    /// The caller's identity.
    pub(super) sub: String,
    iat: i64,
    /// When it expires (seconds since the epoch).
    pub(super) exp: i64,
}

/// Verifies the signature with the leaf's key under the one algorithm that key allows, and
/// the claims: audience, lifetime, times.
pub(super) fn check_token(
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
pub(super) fn check_subject(sub: &str, cluster: &str) -> Result<(), Refusal> {
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
