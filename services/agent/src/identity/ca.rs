//! The identity CA: made here (rcgen, P-256, ten years) when the cluster has none, or read
//! from the Secret and checked to really be a CA whose key matches; it issues the agent's
//! leaf certificates.

use std::fmt;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Years a CA made here is valid.
const VALID_YEARS: u64 = 10;
/// How far back a certificate's validity starts, for clocks that disagree.
const BACKDATE: Duration = Duration::from_secs(300);

/// A CA that can issue the agent's leaves.
pub struct IdentityCa {
    certificate_pem: String,
    fingerprint: String,
    not_after: SystemTime,
    issuer: Issuer<'static, KeyPair>,
}

/// The key and certificate of a CA made here, to store in the Secret.
pub struct Generated {
    /// The CA.
    pub ca: IdentityCa,
    /// Its private key, PKCS#8 PEM: for the Secret only.
    pub key_pem: String,
}

/// A leaf certificate and its key.
pub struct Leaf {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Its key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// When it expires.
    pub not_after: SystemTime,
}

impl fmt::Debug for IdentityCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityCa")
            .field("sha256", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl IdentityCa {
    /// Makes a new P-256 CA for `cluster`.
    pub fn generate(cluster: &str) -> Result<Generated, String> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| format!("cannot generate a key: {e}"))?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{cluster} identity CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = SystemTime::now();
        params.not_before = (now - BACKDATE).into();
        params.not_after = (now + Duration::from_secs(VALID_YEARS * 365 * 24 * 3600)).into();
        let certificate = params
            .self_signed(&key)
            .map_err(|e| format!("cannot sign the CA certificate: {e}"))?;
        let key_pem = key.serialize_pem();
        let ca = IdentityCa::from_pem(&certificate.pem(), &key_pem)?;
        Ok(Generated { ca, key_pem })
    }

    /// Reads a CA from its PEM certificate and key, saying what is wrong when they are not a
    /// usable CA: not a certificate, not a CA, not valid now, or a key that is not its own.
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<IdentityCa, String> {
        let der = first_certificate(certificate_pem)?;
        let (_, x509) = X509Certificate::from_der(&der)
            .map_err(|e| format!("tls.crt does not hold a valid certificate ({e})"))?;
        let is_ca = x509
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|b| b.value.ca);
        let signs_certificates = match x509.key_usage() {
            Ok(Some(usage)) => usage.value.key_cert_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        if !is_ca || !signs_certificates {
            return Err(format!(
                "tls.crt ({}) is not a CA certificate: it needs basicConstraints CA:TRUE and the keyCertSign key usage",
                x509.subject()
            ));
        }
        if !x509.validity().is_valid() {
            return Err(format!(
                "tls.crt ({}) is not valid now (valid from {} to {})",
                x509.subject(),
                x509.validity().not_before,
                x509.validity().not_after
            ));
        }
        let key = KeyPair::from_pem(key_pem)
            .map_err(|_| "tls.key does not hold a private key rcgen can read (PKCS#8 or SEC1 PEM: P-256, P-384, Ed25519 or RSA)".to_owned())?;
        if x509.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err("tls.key is not the private key of tls.crt".into());
        }
        let not_after = SystemTime::UNIX_EPOCH
            + Duration::from_secs(x509.validity().not_after.timestamp().max(0).unsigned_abs());
        let issuer = Issuer::from_ca_cert_der(&der.clone().into(), key)
            .map_err(|e| format!("tls.crt cannot issue certificates ({e})"))?;
        Ok(IdentityCa {
            certificate_pem: pem_of(&der),
            fingerprint: fingerprint(&der),
            not_after,
            issuer,
        })
    }

    /// The certificate, PEM: what Flotilla registers.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// SHA-256 of the certificate's DER, lower-case hex (what Flotilla shows).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Issues a leaf for `spiffe_id` with a fresh P-256 key, valid for `lifetime` (and never
    /// past the CA), for `purpose`.
    pub fn issue_leaf(
        &self,
        spiffe_id: &str,
        lifetime: Duration,
        purpose: Purpose,
    ) -> Result<Leaf, String> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| format!("cannot generate a key: {e}"))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if purpose == Purpose::Client {
            // kube-apiserver's x509 authenticator names the user after the CN: the SPIFFE ID,
            // as Admiralty's `Source` resources expect (`userName: spiffe://...`).
            params
                .distinguished_name
                .push(DnType::CommonName, spiffe_id);
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        }
        let uri = spiffe_id
            .try_into()
            .map_err(|e| format!("{spiffe_id} cannot be a URI name ({e})"))?;
        params.subject_alt_names = vec![SanType::URI(uri)];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = SystemTime::now();
        let not_after = (now + lifetime).min(self.not_after);
        params.not_before = (now - BACKDATE).into();
        params.not_after = not_after.into();
        let certificate = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("cannot issue a certificate for {spiffe_id}: {e}"))?;
        Ok(Leaf {
            der: certificate.der().to_vec(),
            key_der: key.serialize_der(),
            not_after,
        })
    }
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signing the agent's cluster assertions.
    Assertions,
    /// Authenticating a client to another cluster's API server (a Kubeconfig's user).
    Client,
}

/// The DER of the first certificate of a PEM text.
fn first_certificate(pem: &str) -> Result<Vec<u8>, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|_| "tls.crt is not a PEM certificate".to_owned())?;
    if block.label != "CERTIFICATE" {
        return Err(format!(
            "tls.crt holds a {} block, not a CERTIFICATE",
            block.label
        ));
    }
    Ok(block.contents)
}

/// A DER certificate as PEM.
pub fn pem_of(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// SHA-256 of a DER certificate, lower-case hex (what Flotilla shows).
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_ca_reads_back_and_issues_a_leaf_under_it() {
        let generated = IdentityCa::generate("eu-1").expect("a CA");
        let ca = IdentityCa::from_pem(generated.ca.certificate_pem(), &generated.key_pem)
            .expect("the same CA read back");
        assert_eq!(ca.fingerprint(), generated.ca.fingerprint());
        assert_eq!(ca.fingerprint().len(), 64);
        let leaf = ca
            .issue_leaf(
                "spiffe://eu-1/ns/admiralty/id/flotilla-agent",
                Duration::from_secs(3600),
                Purpose::Assertions,
            )
            .expect("a leaf");
        let (_, cert) = X509Certificate::from_der(&leaf.der).expect("a certificate");
        assert_eq!(cert.issuer().to_string(), "CN=eu-1 identity CA");
        assert!(!cert.is_ca());
        let san = format!("{:?}", cert.subject_alternative_name().expect("parsed"));
        assert!(
            san.contains("spiffe://eu-1/ns/admiralty/id/flotilla-agent"),
            "{san}"
        );
        let der = first_certificate(ca.certificate_pem()).expect("PEM");
        let (_, issuer) = X509Certificate::from_der(&der).expect("the CA");
        cert.verify_signature(Some(issuer.public_key()))
            .expect("signed by the CA");
        assert!(!format!("{ca:?}").contains("PRIVATE"));
    }

    #[test]
    fn what_is_not_a_usable_ca_is_refused_saying_why() {
        let generated = IdentityCa::generate("eu-1").expect("a CA");
        let other = IdentityCa::generate("eu-2").expect("another CA");
        let e = IdentityCa::from_pem(generated.ca.certificate_pem(), &other.key_pem)
            .expect_err("a foreign key");
        assert!(e.contains("is not the private key"), "{e}");
        let e = IdentityCa::from_pem("not pem", &generated.key_pem).expect_err("no PEM");
        assert!(e.contains("not a PEM certificate"), "{e}");
        // A leaf is not a CA.
        let leaf = generated
            .ca
            .issue_leaf("spiffe://eu-1/x", Duration::from_secs(60), Purpose::Client)
            .expect("a leaf");
        let leaf_key = KeyPair::try_from(leaf.key_der.as_slice()).expect("its key");
        let e = IdentityCa::from_pem(&pem_of(&leaf.der), &leaf_key.serialize_pem())
            .expect_err("a leaf");
        assert!(e.contains("is not a CA certificate"), "{e}");
    }
}
