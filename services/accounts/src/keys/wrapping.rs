//! The wrapping key: from `FLOTILLA_SIGNING_KEY_WRAPPING_SECRET`, or in development mode from
//! a key file created in the data directory on first start (0600).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flotilla_core::auth::opaque::random_bytes;
use flotilla_core::config::Config;
use secrecy::ExposeSecret;

use crate::settings::AccountsSettings;

/// The key file's name in the data directory (development mode only).
pub const DEV_KEY_FILE: &str = "signing-key-wrapping.secret";

/// The 32-byte wrapping key of these settings (in development mode, of `config`'s data
/// directory).
pub fn wrapping_key(config: &Config, settings: &AccountsSettings) -> anyhow::Result<[u8; 32]> {
    let encoded = match &settings.signing_key_wrapping_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None if config.dev => dev_key_file(config)?,
        None => bail!("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET is required outside development mode"),
    };
    let bytes = STANDARD
        .decode(encoded.trim())
        .context("the signing-key wrapping secret is not base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the signing-key wrapping secret must be 32 bytes"))
}

fn dev_key_file(config: &Config) -> anyhow::Result<String> {
    let path = config.data_dir.join(DEV_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(found) => return Ok(found),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("reading {}", path.display()))
        }
        Err(_) => {}
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let encoded = STANDARD.encode(random_bytes::<32>());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(encoded.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "development mode: created the signing-key wrapping secret");
    Ok(encoded)
}
