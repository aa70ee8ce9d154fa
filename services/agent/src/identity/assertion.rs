//! Cluster assertions: short-lived ES256 JWTs whose `x5c` header carries a leaf certificate
//! issued by the identity CA, with `aud` = Flotilla's URL and `sub` = the agent's SPIFFE ID.
//! Like a JWT-SVID an assertion is reused until most of its life is spent (Flotilla caches a
//! verified one, so a reused assertion costs it a hash lookup), and the leaf likewise.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::ca::{IdentityCa, Leaf, Purpose};

/// How long an assertion is valid: the most Flotilla accepts.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
/// How long a leaf certificate is valid.
const LEAF_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// Signs the agent's assertions, reusing each until two thirds of its life are spent.
#[derive(Clone)]
pub struct Signer {
    ca: Arc<IdentityCa>,
    audience: String,
    subject: String,
    current: Arc<Mutex<Current>>,
}

#[derive(Default)]
struct Current {
    leaf: Option<Leaf>,
    assertion: Option<(SecretString, SystemTime)>,
}

impl Signer {
    /// A signer for `cluster`'s agent in `namespace`, for Flotilla at `audience`.
    pub fn new(ca: Arc<IdentityCa>, audience: String, cluster: &str, namespace: &str) -> Self {
        Signer {
            ca,
            audience,
            subject: format!("spiffe://{cluster}/ns/{namespace}/id/flotilla-agent"),
            current: Arc::default(),
        }
    }

    /// The identity CA.
    pub fn ca(&self) -> &IdentityCa {
        &self.ca
    }

    /// A valid assertion: the current one while it has a third of its life left, else a new
    /// one (under a new leaf when the leaf has less than a third of its life left).
    pub fn assertion(&self) -> Result<SecretString, String> {
        let now = SystemTime::now();
        let mut current = self
            .current
            .lock()
            .map_err(|_| "the assertion cache is poisoned".to_owned())?;
        if let Some((token, refresh_at)) = &current.assertion {
            if now < *refresh_at {
                return Ok(token.clone());
            }
        }
        let leaf_fresh = current
            .leaf
            .as_ref()
            .is_some_and(|l| l.not_after > now + LEAF_LIFETIME / 3 + ASSERTION_LIFETIME);
        if !leaf_fresh {
            current.leaf = Some(self.ca.issue_leaf(
                &self.subject,
                LEAF_LIFETIME,
                Purpose::Assertions,
            )?);
        }
        let Some(leaf) = current.leaf.as_ref() else {
            return Err("no leaf certificate".into());
        };
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let lifetime =
            ASSERTION_LIFETIME.min(leaf.not_after.duration_since(now).unwrap_or_default());
        let claims = Claims {
            aud: &self.audience,
            sub: &self.subject,
            iat,
            exp: iat + lifetime.as_secs(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.x5c = Some(vec![STANDARD.encode(&leaf.der)]);
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&leaf.key_der))
                .map_err(|e| format!("cannot sign an assertion: {e}"))?;
        let token = SecretString::from(token);
        current.assertion = Some((token.clone(), now + lifetime * 2 / 3));
        Ok(token)
    }
}

/// The bearer value of an assertion.
pub fn bearer(token: &SecretString) -> &str {
    token.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn part(token: &str, i: usize) -> serde_json::Value {
        let segment = token.split('.').nth(i).expect("a JWT segment");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
    }

    #[test]
    fn an_assertion_carries_its_leaf_and_is_reused() {
        let generated = IdentityCa::generate("eu-1").expect("a CA");
        let signer = Signer::new(
            Arc::new(generated.ca),
            "https://flotilla.example.com".into(),
            "eu-1",
            "admiralty",
        );
        let token = signer.assertion().expect("an assertion");
        let token = bearer(&token).to_owned();
        let header = part(&token, 0);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["x5c"].as_array().map(Vec::len), Some(1));
        let claims = part(&token, 1);
        assert_eq!(claims["aud"], "https://flotilla.example.com");
        assert_eq!(
            claims["sub"],
            "spiffe://eu-1/ns/admiralty/id/flotilla-agent"
        );
        let lifetime = claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0);
        assert_eq!(lifetime, 300);
        let again = signer.assertion().expect("an assertion");
        assert_eq!(bearer(&again), token, "reused while fresh");
    }
}
