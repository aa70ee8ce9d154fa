//! Makes identity CAs and agent assertions for load tests (`bench/clusters.sh`): for each
//! of COUNT clusters named `<prefix>-<i>`, a P-256 identity CA, a leaf for
//! `spiffe://<prefix>-<i>/ns/admiralty/id/agent`, and an ES256 assertion for AUDIENCE
//! valid for 300 s. Private keys stay in memory; only certificates and assertions are written.
//!
//!   cargo run --release -p flotilla-clusters --example agent_fixtures -- AUDIENCE PREFIX COUNT DIR
//!
//! Writes `DIR/<prefix>-<i>.json` (a registration body) and `DIR/<prefix>-<i>.jwt`.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [audience, prefix, count, dir] = args.as_slice() else {
        anyhow::bail!("usage: agent_fixtures AUDIENCE PREFIX COUNT DIR");
    };
    let count: usize = count.parse()?;
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    for i in 0..count {
        let cluster = format!("{prefix}-{i}");
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{cluster} identity CA"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(
            params,
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        )?;

        let subject = format!("spiffe://{cluster}/ns/admiralty/id/agent");
        let mut leaf_params = CertificateParams::new(Vec::<String>::new())?;
        leaf_params.subject_alt_names = vec![SanType::URI(subject.as_str().try_into()?)];
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

        let mut header = Header::new(Algorithm::ES256);
        header.x5c = Some(vec![STANDARD.encode(leaf.der())]);
        let claims = serde_json::json!({
            "aud": audience, "sub": subject, "iat": now, "exp": now + 300,
        });
        let assertion = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_ec_der(&leaf_key.serialize_der()),
        )?;
        let body = serde_json::json!({
            "identity_ca": ca.pem(),
            "server": "https://203.0.113.10:6443",
            "labels": { "region": "eu-west-1" },
        });
        std::fs::write(dir.join(format!("{cluster}.json")), body.to_string())?;
        std::fs::write(dir.join(format!("{cluster}.jwt")), assertion)?;
    }
    Ok(())
}
