//! Certificates as Flotilla accepts them: the CA certificates a cluster registers (PEM, one
//! certificate, a CA that may sign certificates, valid now, a strong key, its self-signature
//! verified), and the signature checks of an agent's certificate chain. Every refusal says
//! what is wrong in words meant for the person who sent it.

use chrono::{DateTime, Utc};
use ring::digest::{digest, SHA256};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    Oid, OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_SHA1WITHRSA, OID_SHA1_WITH_RSA, OID_SIG_ED25519,
};
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Largest PEM document accepted for one certificate (a 4096-bit RSA CA is about 2 KiB).
pub const MAX_PEM_BYTES: usize = 16 * 1024;

/// A validated CA certificate.
#[derive(Debug, Clone)]
pub struct CaCertificate {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// SHA-256 of the DER.
    pub sha256: [u8; 32],
    /// The DER of its subject name (to find it as an issuer).
    pub subject_der: Vec<u8>,
}

/// The kinds of public key Flotilla accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// RSA with a modulus of this many bits (at least 2048).
    Rsa(usize),
    /// Ed25519.
    Ed25519,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::P256 => f.write_str("EC P-256"),
            KeyKind::P384 => f.write_str("EC P-384"),
            KeyKind::Rsa(bits) => write!(f, "RSA {bits}-bit"),
            KeyKind::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// SHA-256 of `der`.
pub fn sha256(der: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, der).as_ref());
    out
}

/// Parses and checks a CA certificate sent as PEM; the error is the message for its field.
pub fn parse_ca_pem(pem: &str, now: DateTime<Utc>) -> Result<CaCertificate, String> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(format!(
            "must be at most {MAX_PEM_BYTES} bytes of PEM (got {})",
            pem.len()
        ));
    }
    let der = single_certificate(pem)?;
    let cert = parse_der(&der)?;
    check_ca(&cert, now)?;
    if is_self_signed(&cert) {
        cert.verify_signature(None).map_err(|_| {
            "is self-signed, but its signature does not verify with its own key".to_owned()
        })?;
    }
    Ok(CaCertificate {
        sha256: sha256(&der),
        subject_der: cert.subject().as_raw().to_vec(),
        der,
    })
}

/// The DER of the one certificate a PEM document must hold.
fn single_certificate(pem: &str) -> Result<Vec<u8>, String> {
    let mut found = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| format!("is not valid PEM ({e})"))?;
        if block.label.contains("PRIVATE KEY") {
            return Err(
                "holds a private key: send only the certificate; private keys never \
                 leave the cluster"
                    .into(),
            );
        }
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "holds a {:?} block; expected one CERTIFICATE",
                block.label
            ));
        }
        found.push(block.contents);
    }
    match found.len() {
        0 => Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()),
        1 => Ok(found.pop().unwrap_or_default()),
        n => Err(format!(
            "holds {n} certificates; send exactly one, the CA certificate itself"
        )),
    }
}

/// Parses one DER certificate with nothing after it.
pub fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("has bytes after the certificate".into()),
        Err(e) => Err(format!("is not a valid X.509 certificate ({e})")),
    }
}

/// Whether the certificate names itself as its issuer.
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

/// The checks every CA passes: CA:TRUE, keyCertSign, valid now, a strong key, no SHA-1.
pub fn check_ca(cert: &X509Certificate<'_>, now: DateTime<Utc>) -> Result<(), String> {
    match cert.basic_constraints() {
        Ok(Some(ext)) if ext.value.ca => {}
        Ok(Some(_)) => return Err("is not a CA: its basicConstraints say CA:FALSE".into()),
        Ok(None) => {
            return Err("is not a CA: it has no basicConstraints extension with CA:TRUE".into())
        }
        Err(e) => {
            return Err(format!(
                "has an unreadable basicConstraints extension ({e})"
            ))
        }
    }
    match cert.key_usage() {
        Ok(Some(ext)) if ext.value.key_cert_sign() => {}
        Ok(Some(_)) => {
            return Err("may not sign certificates: its keyUsage lacks keyCertSign".into())
        }
        Ok(None) => return Err("has no keyUsage extension; a CA needs one with keyCertSign".into()),
        Err(e) => return Err(format!("has an unreadable keyUsage extension ({e})")),
    }
    check_validity(cert, now)?;
    key_kind(cert.public_key())?;
    check_signature_algorithm(cert)
}

/// Refuses a certificate that is not valid at `now`.
pub fn check_validity(cert: &X509Certificate<'_>, now: DateTime<Utc>) -> Result<(), String> {
    let (from, until) = validity(cert);
    if now < from {
        return Err(format!(
            "is not valid yet: valid from {}",
            from.to_rfc3339()
        ));
    }
    if now > until {
        return Err(format!("has expired: valid until {}", until.to_rfc3339()));
    }
    Ok(())
}

/// The certificate's validity period.
pub fn validity(cert: &X509Certificate<'_>) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let v = cert.validity();
    (at(v.not_before.timestamp()), at(v.not_after.timestamp()))
}

/// SHA-1 signatures can be forged; a certificate signed with one proves nothing.
fn check_signature_algorithm(cert: &X509Certificate<'_>) -> Result<(), String> {
    /// ecdsa-with-SHA1, which the OID registry does not name.
    const ECDSA_WITH_SHA1: &str = "1.2.840.10045.4.1";
    let alg = &cert.signature_algorithm.algorithm;
    if *alg == OID_PKCS1_SHA1WITHRSA
        || *alg == OID_SHA1_WITH_RSA
        || alg.to_id_string() == ECDSA_WITH_SHA1
    {
        return Err("is signed with SHA-1, which is broken; use SHA-256 or better".into());
    }
    Ok(())
}

/// What kind of key a certificate holds, or why it is not accepted.
pub fn key_kind(spki: &SubjectPublicKeyInfo<'_>) -> Result<KeyKind, String> {
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve: Option<Oid<'_>> = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        // SPIFFE bundles publish the point's coordinates (JWK x and y): a compressed point
        // would need decompressing first, and no common tool makes one.
        if spki.subject_public_key.data.first() != Some(&4) {
            return Err("has an EC key whose point is not in uncompressed form".into());
        }
        return match curve {
            Some(c) if c == OID_EC_P256 => Ok(KeyKind::P256),
            Some(c) if c == OID_NIST_EC_P384 => Ok(KeyKind::P384),
            Some(c) => Err(format!("has an EC key on curve {c}; use P-256 or P-384")),
            None => Err("has an EC key without a named curve; use P-256 or P-384".into()),
        };
    }
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => modulus_bits(rsa.modulus),
            _ => return Err("has an unreadable RSA key".into()),
        };
        return if bits >= 2048 {
            Ok(KeyKind::Rsa(bits))
        } else {
            Err(format!("has a {bits}-bit RSA key; use at least 2048 bits"))
        };
    }
    if *alg == OID_SIG_ED25519 {
        return Ok(KeyKind::Ed25519);
    }
    Err(format!(
        "has a key of type {alg}; use EC P-256 or P-384, RSA of at least 2048 bits, or Ed25519"
    ))
}

/// Bits of an RSA modulus given as a big-endian integer (possibly with leading zeros).
fn modulus_bits(modulus: &[u8]) -> usize {
    let trimmed: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

/// Checks that `issuer` issued `cert`: names match and the signature verifies with its key.
pub fn verify_issued_by(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), String> {
    if cert.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(format!(
            "{} names {} as its issuer, not {}",
            cert.subject(),
            cert.issuer(),
            issuer.subject()
        ));
    }
    check_signature_algorithm(cert)?;
    cert.verify_signature(Some(issuer.public_key()))
        .map_err(|_| {
            format!(
                "the signature on {} does not verify with the key of {}",
                cert.subject(),
                issuer.subject()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};

    fn ca(alg: &'static rcgen::SignatureAlgorithm) -> (String, KeyPair) {
        let key = KeyPair::generate_for(alg).expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("self-signed");
        (cert.pem(), key)
    }

    #[test]
    fn accepts_ec_and_ed25519_cas() {
        let now = Utc::now();
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ] {
            let (pem, _) = ca(alg);
            let parsed = parse_ca_pem(&pem, now).expect("accepted");
            assert_eq!(parsed.sha256, sha256(&parsed.der));
        }
    }

    #[test]
    fn refuses_what_is_not_one_ca_certificate() {
        let now = Utc::now();
        let (pem, key) = ca(&rcgen::PKCS_ECDSA_P256_SHA256);
        let two = format!("{pem}{pem}");
        assert!(parse_ca_pem(&two, now)
            .unwrap_err()
            .contains("2 certificates"));
        let with_key = format!("{pem}{}", key.serialize_pem());
        assert!(parse_ca_pem(&with_key, now)
            .unwrap_err()
            .contains("private key"));
        assert!(parse_ca_pem("hello", now).unwrap_err().contains("no PEM"));
        // rcgen certificates are valid until 4096.
        let later = now + chrono::Duration::days(365 * 3000);
        assert!(parse_ca_pem(&pem, later).unwrap_err().contains("expired"));
    }

    #[test]
    fn counts_modulus_bits() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0x00]), 9);
        assert_eq!(modulus_bits(&[0x00]), 0);
    }
}
