//! The header of an assertion and its certificate chain: `alg` and `x5c` read before
//! anything is trusted, the chain from the leaf through any intermediates to one of the
//! account's identity CAs, and the leaf's key.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use x509_parser::certificate::X509Certificate;

use super::store::Anchor;
use super::{not_in_account, Refusal};
use crate::certificates::{self, KeyKind};

/// Most certificates in `x5c`.
const MAX_CHAIN: usize = 5;

/// The header fields read before anything is trusted.
#[derive(Deserialize)]
pub(super) struct RawHeader {
    alg: Option<String>,
    /// The chain, leaf first, each certificate standard base64 of its DER.
    pub(super) x5c: Option<Vec<String>>,
}

/// The token's JOSE header, if it has one that reads as JSON.
pub(super) fn raw_header(token: &str) -> Option<RawHeader> {
    let encoded = token.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()
}

/// The pinned algorithm and the DER certificates of `x5c`.
pub(super) fn read_header(header: RawHeader) -> Result<(Algorithm, Vec<Vec<u8>>), Refusal> {
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
pub(super) fn check_chain<'c, 'a>(
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
pub(super) fn leaf_key(leaf: &X509Certificate<'_>) -> Result<(KeyKind, DecodingKey), Refusal> {
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
