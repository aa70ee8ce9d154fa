//! Sealing private keys at rest: AES-256-GCM under the wrapping secret, with a random nonce
//! stored in front of the ciphertext and the key id as associated data (so a sealed key
//! cannot be swapped onto another row).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use flotilla_core::auth::opaque::random_bytes;

/// The wrapping key.
pub struct Sealer(LessSafeKey);

/// Sealing or opening failed (a wrong wrapping secret, or a damaged row).
#[derive(Debug, thiserror::Error)]
#[error("the sealed signing key cannot be opened: is FLOTILLA_SIGNING_KEY_WRAPPING_SECRET the one it was sealed with?")]
pub struct SealError;

impl Sealer {
    /// A sealer from 32 bytes of key.
    pub fn new(key: &[u8; 32]) -> Self {
        // 32 bytes is exactly AES-256's key length, so this cannot fail.
        let key = UnboundKey::new(&AES_256_GCM, key).unwrap_or_else(|_| unreachable!());
        Self(LessSafeKey::new(key))
    }

    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut sealed = plaintext.to_vec();
        // Only fails for inputs over AES-GCM's 64 GiB limit.
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .unwrap_or_else(|_| unreachable!());
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of [`Sealer::seal`]'s output.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| SealError)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_secret_and_kid() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("k1", b"private");
        assert_ne!(&sealed[NONCE_LEN..], b"private");
        assert_eq!(sealer.open("k1", &sealed).expect("opens"), b"private");
        assert!(sealer.open("k2", &sealed).is_err());
        assert!(Sealer::new(&[8; 32]).open("k1", &sealed).is_err());
        assert!(sealer.open("k1", &sealed[..5]).is_err());
    }
}
