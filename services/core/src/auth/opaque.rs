//! Opaque secrets (session cookies, refresh tokens, codes, API tokens): generated from the
//! OS's CSPRNG, handed to the client once, and stored only as their SHA-256. They carry 256
//! bits of entropy, so a fast hash is enough: there is nothing to brute-force.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest;

/// `n` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS's random source failing is not something a server can work around.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("the OS random source failed: {e}"));
    bytes
}

/// A fresh secret: 32 random bytes, base64url without padding (43 characters).
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Length of a prefixed token's lookup id (hex), after its prefix.
pub const LOOKUP_LEN: usize = 12;

/// A new prefixed token, `<prefix><lookup>_<secret>`, and its lookup id. The lookup id
/// need not be secret, only unique (48 random bits in hex): it finds the stored hash.
pub fn new_token(prefix: &str) -> (String, String) {
    let lookup = hex(&random_bytes::<{ LOOKUP_LEN / 2 }>());
    let token = format!("{prefix}{lookup}_{}", new_secret());
    (token, lookup)
}

/// Lower-case hex of `bytes` (lookup ids, fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lookup id of a token made by [`new_token`] with `prefix`, if it has that shape.
pub fn token_lookup<'t>(token: &'t str, prefix: &str) -> Option<&'t str> {
    let rest = token.strip_prefix(prefix)?;
    let lookup = rest.get(..LOOKUP_LEN)?;
    (rest.as_bytes().get(LOOKUP_LEN) == Some(&b'_')).then_some(lookup)
}

/// The SHA-256 of a secret, as stored.
pub fn hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes())
        .as_ref()
        .to_vec()
}

/// The SHA-256 of a secret, as a fixed array (cache keys).
pub fn hash_array(secret: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, secret.as_bytes()).as_ref());
    out
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_distinct_and_url_safe() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(hash(&a).len(), 32);
        assert!(constant_time_eq(&hash(&a), &hash(&a)));
        assert!(!constant_time_eq(&hash(&a), &hash(&b)));
    }

    #[test]
    fn prefixed_tokens_carry_their_lookup_id() {
        let (token, lookup) = new_token("flt_");
        assert_eq!(token_lookup(&token, "flt_"), Some(lookup.as_str()));
        assert_eq!(token_lookup(&token, "flreg_"), None);
        assert_eq!(token_lookup("flt_short", "flt_"), None);
    }
}
