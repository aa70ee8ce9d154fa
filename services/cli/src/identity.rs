//! `register-cluster --generate-identity-ca`: a new identity CA made here with rcgen. Its
//! private key goes only to local files readable by their owner (the key, and a Secret
//! manifest ready for `kubectl apply`); only the certificate is uploaded.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Datelike, Days, Utc};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

use crate::error::{CliError, Result};
use crate::store::create_private;

/// Years a generated identity CA is valid.
const VALID_YEARS: i32 = 10;

/// A generated CA, and where its files went.
pub struct Generated {
    /// The certificate (PEM): what is uploaded.
    pub certificate_pem: String,
    /// The private key's file.
    pub key_file: PathBuf,
    /// The Secret manifest's file.
    pub secret_file: PathBuf,
}

/// Generates an identity CA for `cluster` and writes its key and Secret manifest in `dir`
/// (refusing to overwrite either).
pub fn generate(cluster: &str, dir: &Path) -> Result<Generated> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| CliError::Local(format!("cannot generate a key: {e}")))?;
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
    // From yesterday (clock skew) for ten years.
    let start = Utc::now().date_naive() - Days::new(1);
    params.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    params.not_after = rcgen::date_time_ymd(
        start.year() + VALID_YEARS,
        start.month() as u8,
        start.day().min(28) as u8,
    );
    let certificate = params
        .self_signed(&key)
        .map_err(|e| CliError::Local(format!("cannot sign the CA certificate: {e}")))?;
    let certificate_pem = certificate.pem();
    let key_pem = key.serialize_pem();
    let key_file = dir.join(format!("{cluster}-identity-ca.key"));
    let secret_file = dir.join(format!("{cluster}-identity-ca-secret.yaml"));
    create_private(&key_file, key_pem.as_bytes())?;
    create_private(
        &secret_file,
        secret_manifest(&certificate_pem, &key_pem).as_bytes(),
    )?;
    Ok(Generated {
        certificate_pem,
        key_file,
        secret_file,
    })
}

/// A `kubernetes.io/tls` Secret holding the CA, in the `admiralty` namespace, where the agent
/// reads its identity CA.
fn secret_manifest(certificate_pem: &str, key_pem: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: flotilla-identity-ca\n  namespace: admiralty\n\
         type: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        STANDARD.encode(certificate_pem),
        STANDARD.encode(key_pem)
    )
}
