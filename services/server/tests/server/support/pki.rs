//! Certificates and assertions for every test that registers a cluster or speaks as its agent: CAs, intermediates and leaves made
//! with `rcgen` (RSA keys and odd curves come from the `openssl` command, which rcgen's ring
//! backend cannot generate), and assertions signed here with `ring`, independently of the
//! server's `jsonwebtoken` verification.

use std::process::Command;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Datelike;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use serde_json::{json, Value};

/// Key types of the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    P256,
    P384,
    Rsa,
}

/// A fresh key of `alg`.
pub fn key(alg: Alg) -> KeyPair {
    match alg {
        Alg::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key"),
        Alg::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key"),
        Alg::Rsa => {
            let pem = openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ]);
            KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("RSA key")
        }
    }
}

/// Runs `openssl` with `args`; its standard output.
pub fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs (scripts/install-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("PEM text")
}

/// A self-signed CA made by `openssl req` with extra `args` (e.g. `-newkey rsa:1024`).
pub fn openssl_ca(newkey: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = dir.path().join("key.pem");
    let key = key.to_str().expect("utf-8 path");
    let mut args = vec![
        "req",
        "-x509",
        "-nodes",
        "-keyout",
        key,
        "-subj",
        "/CN=openssl CA",
    ];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&[
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&args)
}

/// A self-signed P-256 CA whose key is written as a compressed point (`openssl ec
/// -conv_form compressed`), which SPIFFE bundles cannot publish as JWK coordinates.
pub fn openssl_compressed_point_ca() -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = dir.path().join("key.pem");
    let key = key.to_str().expect("utf-8 path");
    let plain = openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout"]);
    std::fs::write(key, plain).expect("write the key");
    openssl(&["ec", "-in", key, "-conv_form", "compressed", "-out", key]);
    openssl(&[
        "req",
        "-x509",
        "-key",
        key,
        "-subj",
        "/CN=compressed CA",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])
}

/// The year after this one (for certificates not valid yet).
pub fn next_year() -> i32 {
    chrono::Utc::now().year() + 1
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A CA that can issue certificates.
pub struct Ca {
    pub issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed identity CA named `name`.
    pub fn root(name: &str, alg: Alg) -> Self {
        Self::root_with(name, alg, |_| {})
    }

    /// A self-signed CA, with `tweak` applied to its parameters.
    pub fn root_with(name: &str, alg: Alg, tweak: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut params = ca_params(name);
        tweak(&mut params);
        Ca {
            issuer: CertifiedIssuer::self_signed(params, key(alg)).expect("self-signed CA"),
        }
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, name: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut params = ca_params(name);
        tweak(&mut params);
        Ca {
            issuer: CertifiedIssuer::signed_by(params, key(Alg::P256), &self.issuer)
                .expect("intermediate"),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A leaf certificate for an agent's SPIFFE ID, with a key of `alg`.
    pub fn leaf(&self, spiffe_id: &str, alg: Alg) -> Leaf {
        self.leaf_with(spiffe_id, alg, |_| {})
    }

    /// A leaf, with `tweak` applied to its parameters.
    pub fn leaf_with(
        &self,
        spiffe_id: &str,
        alg: Alg,
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = vec![rcgen::SanType::URI(spiffe_id.try_into().expect("a URI"))];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        tweak(&mut params);
        let key = key(alg);
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        Leaf {
            alg,
            key,
            der: cert.der().to_vec(),
        }
    }
}

/// An agent's leaf certificate and its key.
pub struct Leaf {
    pub alg: Alg,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

impl Leaf {
    /// An assertion for `audience` by `sub`, valid two minutes from now, with `x5c` = this
    /// leaf then `chain`.
    pub fn assertion(&self, audience: &str, sub: &str, chain: &[Vec<u8>]) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({ "aud": audience, "sub": sub, "iat": now, "exp": now + 120 });
        self.sign(self.default_alg(), chain, &claims)
    }

    /// The JWS algorithm for this leaf's key.
    pub fn default_alg(&self) -> &'static str {
        match self.alg {
            Alg::P256 => "ES256",
            Alg::P384 => "ES384",
            Alg::Rsa => "RS256",
        }
    }

    /// Signs `claims` with `alg` and an `x5c` of this leaf then `chain`.
    pub fn sign(&self, alg: &str, chain: &[Vec<u8>], claims: &Value) -> String {
        let mut x5c = vec![STANDARD.encode(&self.der)];
        x5c.extend(chain.iter().map(|c| STANDARD.encode(c)));
        let header = json!({ "alg": alg, "typ": "JWT", "x5c": x5c });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = sign_raw(alg, &self.key.serialize_der(), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Signs `message` with the PKCS#8 key `pkcs8` under `alg`.
pub fn sign_raw(alg: &str, pkcs8: &[u8], message: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let ecdsa = |a: &'static signature::EcdsaSigningAlgorithm| {
        EcdsaKeyPair::from_pkcs8(a, pkcs8, &rng)
            .expect("EC key")
            .sign(&rng, message)
            .expect("signature")
            .as_ref()
            .to_vec()
    };
    let rsa = |padding: &'static dyn signature::RsaEncoding| {
        let key = RsaKeyPair::from_pkcs8(pkcs8).expect("RSA key");
        let mut out = vec![0u8; key.public().modulus_len()];
        key.sign(padding, &rng, message, &mut out)
            .expect("signature");
        out
    };
    match alg {
        "ES256" => ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        "ES384" => ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        "RS256" => rsa(&signature::RSA_PKCS1_SHA256),
        "PS256" => rsa(&signature::RSA_PSS_SHA256),
        other => panic!("no signer for {other}"),
    }
}

/// The SHA-256 fingerprint of `der`, hex, as Flotilla shows it.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
