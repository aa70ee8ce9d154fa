//! JSON Web Keys as SPIFFE bundles hold them: an `x509-svid` entry made from an identity CA
//! certificate, and the checking of the `jwt-svid` keys a cluster publishes. Every key is
//! re-written from the parameters Flotilla understood, so nothing else a client sent is
//! ever served back.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use flotilla_clusters::certificates::{self, KeyKind};
use flotilla_core::FieldError;
use serde_json::{json, Map, Value};
use x509_parser::public_key::PublicKey;

/// Most keys in one JWK Set.
pub const MAX_KEYS: usize = 32;
/// Longest `kid`.
pub const MAX_KID_LEN: usize = 128;
/// Largest JWK Set body, in bytes.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Members that hold private key material, in any key type.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The `x509-svid` entry of a stored identity CA: the certificate in `x5c`, and its public
/// key as JWK parameters (no `kid`, as the SPIFFE bundle format asks).
pub fn x509_svid(der: &[u8]) -> Result<Value, String> {
    let cert = certificates::parse_der(der)?;
    let spki = cert.public_key();
    let key = spki.subject_public_key.data.as_ref();
    let mut jwk = match certificates::key_kind(spki)? {
        kind @ (KeyKind::P256 | KeyKind::P384) => {
            let (crv, size) = match kind {
                KeyKind::P256 => ("P-256", 32),
                _ => ("P-384", 48),
            };
            // Uncompressed point: 0x04 || x || y (registration refuses compressed points).
            if key.len() != 1 + 2 * size || key[0] != 4 {
                return Err("has an EC point that is not in uncompressed form".into());
            }
            json!({
                "kty": "EC",
                "crv": crv,
                "x": URL_SAFE_NO_PAD.encode(&key[1..=size]),
                "y": URL_SAFE_NO_PAD.encode(&key[1 + size..]),
            })
        }
        KeyKind::Rsa(_) => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => json!({
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(unsigned(rsa.modulus)),
                "e": URL_SAFE_NO_PAD.encode(unsigned(rsa.exponent)),
            }),
            _ => return Err("has an unreadable RSA key".into()),
        },
        KeyKind::Ed25519 => json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(key),
        }),
    };
    jwk["use"] = json!("x509-svid");
    jwk["x5c"] = json!([STANDARD.encode(der)]);
    Ok(jwk)
}

/// A big-endian integer without its leading zero bytes (DER adds one to keep it positive;
/// JWK wants none).
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Checks a JWK Set of `jwt-svid` keys; the keys as they will be published, or every reason
/// it is refused, each at its JSON pointer.
pub fn check_jwt_authorities(body: &[u8]) -> Result<Vec<Value>, Vec<FieldError>> {
    let refuse = |field: &str, message: String| vec![FieldError::new(field, message)];
    if body.len() > MAX_JWKS_BYTES {
        return Err(refuse(
            "",
            format!(
                "the JWK Set is {} bytes; at most {MAX_JWKS_BYTES} are accepted",
                body.len()
            ),
        ));
    }
    let set: Value = serde_json::from_slice(body)
        .map_err(|e| refuse("", format!("not a JSON document: {e}")))?;
    let Value::Object(set) = set else {
        return Err(refuse(
            "",
            "a JWK Set is an object with a `keys` array".into(),
        ));
    };
    if let Some(other) = set.keys().find(|k| *k != "keys") {
        return Err(refuse(
            &format!("/{}", pointer_escape(other)),
            format!("{other:?} is not accepted: a JWK Set here has only `keys` (Flotilla sets the SPIFFE members)"),
        ));
    }
    let keys = match set.get("keys") {
        Some(Value::Array(keys)) => keys,
        _ => return Err(refuse("/keys", "`keys` must be an array of JWKs".into())),
    };
    if keys.len() > MAX_KEYS {
        return Err(refuse(
            "/keys",
            format!("{} keys; at most {MAX_KEYS} are accepted", keys.len()),
        ));
    }
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(keys.len());
    let mut kids: Vec<&str> = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let at = format!("/keys/{i}");
        match check_key(key) {
            Ok(jwk) => {
                let kid = key["kid"].as_str().unwrap_or_default();
                if let Some(first) = kids.iter().position(|k| *k == kid) {
                    errors.push(FieldError::new(
                        format!("{at}/kid"),
                        format!(
                            "kid {kid:?} is already the kid of key {first}; each key needs its own"
                        ),
                    ));
                }
                kids.push(kid);
                checked.push(jwk);
            }
            Err((field, message)) => errors.push(FieldError::new(format!("{at}{field}"), message)),
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(errors)
    }
}

type KeyError = (String, String);

fn key_error(field: &str, message: impl Into<String>) -> KeyError {
    (field.to_owned(), message.into())
}

/// One `jwt-svid` key; the published form, or the member at fault and why.
fn check_key(key: &Value) -> Result<Value, KeyError> {
    let Value::Object(key) = key else {
        return Err(key_error("", "a JWK is a JSON object"));
    };
    if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| key.contains_key(**m)) {
        return Err(key_error(
            &format!("/{private}"),
            format!("holds private key material ({private:?}); publish public keys only"),
        ));
    }
    let kid = match key.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid,
        Some(Value::String(_)) | None => {
            return Err(key_error(
                "/kid",
                "a jwt-svid key needs a kid, to be found by the tokens it signed",
            ))
        }
        Some(_) => return Err(key_error("/kid", "kid must be a string")),
    };
    if kid.chars().count() > MAX_KID_LEN || kid.chars().any(|c| c.is_control()) {
        return Err(key_error(
            "/kid",
            format!("kid must be at most {MAX_KID_LEN} printable characters"),
        ));
    }
    match key.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" || u == "jwt-svid" => {}
        Some(other) => {
            return Err(key_error(
                "/use",
                format!(
                "use {other} is not accepted: these keys verify JWT-SVIDs (`sig` or `jwt-svid`)"
            ),
            ))
        }
    }
    let alg = match key.get("alg") {
        None => None,
        Some(Value::String(alg)) => Some(alg.as_str()),
        Some(_) => return Err(key_error("/alg", "alg must be a string")),
    };
    let mut jwk = match key.get("kty").and_then(Value::as_str) {
        Some("EC") => check_ec(key, alg)?,
        Some("RSA") => check_rsa(key, alg)?,
        Some(other) => {
            return Err(key_error(
                "/kty",
                format!(
                "kty {other:?} is not accepted: only RSA and EC keys (RS, PS and ES algorithms)"
            ),
            ))
        }
        None => return Err(key_error("/kty", "a JWK needs kty (RSA or EC)")),
    };
    jwk.insert("kid".into(), json!(kid));
    jwk.insert("use".into(), json!("jwt-svid"));
    if let Some(alg) = alg {
        jwk.insert("alg".into(), json!(alg));
    }
    Ok(Value::Object(jwk))
}

fn check_ec(key: &Map<String, Value>, alg: Option<&str>) -> Result<Map<String, Value>, KeyError> {
    let (size, expected_alg) = match key.get("crv").and_then(Value::as_str) {
        Some("P-256") => (32, "ES256"),
        Some("P-384") => (48, "ES384"),
        Some("P-521") => (66, "ES512"),
        Some(other) => {
            return Err(key_error(
                "/crv",
                format!("curve {other:?} is not accepted: P-256, P-384 or P-521"),
            ))
        }
        None => return Err(key_error("/crv", "an EC key needs crv")),
    };
    if let Some(alg) = alg.filter(|a| *a != expected_alg) {
        return Err(key_error(
            "/alg",
            format!(
                "alg {alg:?} does not go with this key: a {} key signs with {expected_alg}",
                key["crv"].as_str().unwrap_or_default()
            ),
        ));
    }
    let x = coordinate(key, "x", size)?;
    let y = coordinate(key, "y", size)?;
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    if !on_curve(size, &point) {
        return Err(key_error("/x", "x and y are not a point of the curve"));
    }
    let mut jwk = Map::new();
    jwk.insert("kty".into(), json!("EC"));
    jwk.insert("crv".into(), key["crv"].clone());
    jwk.insert("x".into(), json!(URL_SAFE_NO_PAD.encode(&x)));
    jwk.insert("y".into(), json!(URL_SAFE_NO_PAD.encode(&y)));
    Ok(jwk)
}

/// Whether an uncompressed point is on P-256 or P-384 (ring checks a peer's point before
/// any key agreement). ring has no P-521; those points are checked for size only.
fn on_curve(size: usize, point: &[u8]) -> bool {
    use ring::agreement::{
        agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256, ECDH_P384,
    };
    let alg = match size {
        32 => &ECDH_P256,
        48 => &ECDH_P384,
        _ => return true,
    };
    let rng = ring::rand::SystemRandom::new();
    let Ok(ours) = EphemeralPrivateKey::generate(alg, &rng) else {
        return false;
    };
    agree_ephemeral(ours, &UnparsedPublicKey::new(alg, point), |_| ()).is_ok()
}

fn coordinate(key: &Map<String, Value>, name: &str, size: usize) -> Result<Vec<u8>, KeyError> {
    let field = format!("/{name}");
    let bytes = base64url(key, name)?;
    if bytes.len() != size {
        return Err(key_error(
            &field,
            format!(
                "{name} is {} bytes; this curve's coordinates are {size}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

fn check_rsa(key: &Map<String, Value>, alg: Option<&str>) -> Result<Map<String, Value>, KeyError> {
    const RSA_ALGS: [&str; 6] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    if let Some(alg) = alg.filter(|a| !RSA_ALGS.contains(a)) {
        return Err(key_error(
            "/alg",
            format!("alg {alg:?} does not go with an RSA key: RS256, RS384, RS512, PS256, PS384 or PS512"),
        ));
    }
    let n = base64url(key, "n")?;
    let n = unsigned(&n);
    let bits = n
        .first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
    if !(2048..=8192).contains(&bits) {
        return Err(key_error(
            "/n",
            format!("a {bits}-bit modulus; RSA keys of 2048 to 8192 bits are accepted"),
        ));
    }
    let e = base64url(key, "e")?;
    let e = unsigned(&e);
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    if e.is_empty() || e.len() > 4 || !odd || e == [1] {
        return Err(key_error(
            "/e",
            "the exponent must be an odd number above 1 of at most 32 bits (usually AQAB, 65537)",
        ));
    }
    let mut jwk = Map::new();
    jwk.insert("kty".into(), json!("RSA"));
    jwk.insert("n".into(), json!(URL_SAFE_NO_PAD.encode(n)));
    jwk.insert("e".into(), json!(URL_SAFE_NO_PAD.encode(e)));
    Ok(jwk)
}

fn base64url(key: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KeyError> {
    let field = format!("/{name}");
    let text = match key.get(name) {
        Some(Value::String(text)) => text,
        Some(_) => return Err(key_error(&field, format!("{name} must be a string"))),
        None => return Err(key_error(&field, format!("{name} is missing"))),
    };
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| key_error(&field, format!("{name} is not base64url without padding")))
}

/// A member name as a JSON pointer segment.
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: Value) -> (String, String) {
        let errors = check_jwt_authorities(body.to_string().as_bytes()).expect_err("refused");
        (errors[0].field.clone(), errors[0].message.clone())
    }

    fn rsa_key(kid: &str) -> Value {
        // A 2048-bit modulus: top bit set, 256 bytes.
        let mut n = vec![0xC3u8; 256];
        n[255] = 0x01;
        json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
               "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"})
    }

    #[test]
    fn public_rsa_keys_are_normalised_for_jwt_svids() {
        let mut key = rsa_key("k1");
        key["x5t"] = json!("ignored");
        let keys =
            check_jwt_authorities(json!({"keys": [key]}).to_string().as_bytes()).expect("accepted");
        assert_eq!(keys[0]["use"], "jwt-svid");
        assert_eq!(keys[0]["kid"], "k1");
        assert_eq!(keys[0]["alg"], "RS256");
        assert!(keys[0].get("x5t").is_none());
    }

    #[test]
    fn refusals_name_the_member_and_the_reason() {
        let mut private = rsa_key("k");
        private["d"] = json!("AAAA");
        assert_eq!(refusal(json!({"keys": [private]})).0, "/keys/0/d");
        let (field, message) = refusal(json!({"keys": [rsa_key("a"), rsa_key("a")]}));
        assert_eq!(field, "/keys/1/kid");
        assert!(message.contains("key 0"), "{message}");
        let mut hs = rsa_key("h");
        hs["alg"] = json!("HS256");
        assert_eq!(refusal(json!({"keys": [hs]})).0, "/keys/0/alg");
        let oct = json!({"kty": "oct", "kid": "s", "k": "c2VjcmV0"});
        assert_eq!(refusal(json!({"keys": [oct]})).0, "/keys/0/k");
        let okp = json!({"kty": "OKP", "kid": "e", "crv": "Ed25519", "x": "AAAA"});
        assert_eq!(refusal(json!({"keys": [okp]})).0, "/keys/0/kty");
        let mut short = rsa_key("s");
        short["n"] = json!(URL_SAFE_NO_PAD.encode([0xC3u8; 128]));
        assert!(refusal(json!({"keys": [short]})).1.contains("1024-bit"));
        let mut no_kid = rsa_key("x");
        no_kid.as_object_mut().expect("object").remove("kid");
        assert_eq!(refusal(json!({"keys": [no_kid]})).0, "/keys/0/kid");
        let off_curve = json!({"kty": "EC", "kid": "p", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])});
        assert_eq!(refusal(json!({"keys": [off_curve]})).0, "/keys/0/x");
        assert_eq!(
            refusal(json!({"keys": [], "spiffe_sequence": 3})).0,
            "/spiffe_sequence"
        );
        assert_eq!(refusal(json!([])).0, "");
        let many: Vec<Value> = (0..=MAX_KEYS).map(|i| rsa_key(&format!("k{i}"))).collect();
        assert_eq!(refusal(json!({"keys": many})).0, "/keys");
    }
}
