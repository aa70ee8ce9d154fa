//! What `flotilla configure` saves under `~/.flotilla` (or `$FLOTILLA_HOME`): the server and
//! account (`config.json`) and the tokens (`credentials.json`), each written whole through a
//! temporary file and readable by its owner only (0600, in a 0700 directory).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{local, CliError, Result};

/// The server and account the CLI works with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Flotilla's URL (its issuer).
    pub server: String,
    /// The account chosen at `configure`.
    pub account: String,
}

/// The person's tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The current access token.
    pub access_token: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// The refresh token (single use: replaced at every refresh).
    pub refresh_token: String,
}

/// The CLI's directory.
pub struct Home {
    dir: PathBuf,
}

const SETTINGS: &str = "config.json";
const CREDENTIALS: &str = "credentials.json";

impl Home {
    /// `$FLOTILLA_HOME`, or `~/.flotilla`.
    pub fn locate() -> Result<Home> {
        let dir = match std::env::var_os("FLOTILLA_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => home_dir()?.join(".flotilla"),
        };
        Ok(Home { dir })
    }

    /// The saved server and account, if `configure` ran.
    pub fn settings(&self) -> Result<Option<Settings>> {
        self.read(SETTINGS)
    }

    /// Saves the server and account.
    pub fn save_settings(&self, settings: &Settings) -> Result<()> {
        self.write(SETTINGS, settings)
    }

    /// The saved tokens, if logged in.
    pub fn credentials(&self) -> Result<Option<Credentials>> {
        self.read(CREDENTIALS)
    }

    /// Saves the tokens.
    pub fn save_credentials(&self, credentials: &Credentials) -> Result<()> {
        self.write(CREDENTIALS, credentials)
    }

    /// Deletes the tokens; true if there were any.
    pub fn forget_credentials(&self) -> Result<bool> {
        let path = self.dir.join(CREDENTIALS);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(local("delete", &path, e)),
        }
    }

    fn read<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let path = self.dir.join(name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(local("read", &path, e)),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            CliError::Local(format!(
                "{} is damaged ({e}); run `flotilla configure` again",
                path.display()
            ))
        })
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| local("create", &self.dir, e))?;
        let text = serde_json::to_vec_pretty(value)
            .map_err(|e| CliError::Local(format!("cannot encode {name}: {e}")))?;
        write_private(&self.dir.join(name), &text)
    }
}

/// Writes `bytes` to `path` readable by its owner only (0600), atomically: a reader sees the
/// old file or the new one, never half of one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| local("create", &tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| local("write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| local("replace", path, e))
}

/// Writes a new file readable by its owner only, refusing to replace one that exists (a
/// private key is never overwritten).
pub fn create_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                CliError::Usage(format!(
                    "{} already exists; move it away or choose another --out-dir",
                    path.display()
                ))
            } else {
                local("create", path, e)
            }
        })?;
    file.write_all(bytes).map_err(|e| local("write", path, e))
}

/// The person's home directory.
pub fn home_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CliError::Local("HOME is not set; set FLOTILLA_HOME".into()))
}
