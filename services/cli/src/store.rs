//! What `flotilla configure` saves under `~/.flotilla` (or `$FLOTILLA_HOME`): the server and
//! account (`config.json`), the tokens (`credentials.json`) and the tokens exchanged for
//! clusters (`cluster-tokens.json`), each written whole through a temporary file of its own
//! and readable by its owner only (0600, in a 0700 directory). The tokens change only under
//! the home's lock (`credentials.lock`): kubectl runs `flotilla exec-credential` in parallel,
//! and a refresh token is single use.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::cluster_tokens::ClusterTokens;
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
const CLUSTER_TOKENS: &str = "cluster-tokens.json";
const LOCK: &str = "credentials.lock";

/// The home's lock, held from reading the tokens to saving their replacement, so that two
/// processes never both refresh with the same (single-use) refresh token. Functions that
/// change the tokens take it as an argument. Released when dropped, or when the process ends
/// however it ends (an advisory `flock`).
pub struct HomeLock {
    _file: File,
}

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
    pub fn save_credentials(&self, credentials: &Credentials, _lock: &HomeLock) -> Result<()> {
        self.write(CREDENTIALS, credentials)
    }

    /// Deletes the tokens and the cluster tokens got with them; true if there were tokens.
    pub fn forget_credentials(&self, lock: &HomeLock) -> Result<bool> {
        self.forget_cluster_tokens(lock)?;
        self.remove(CREDENTIALS)
    }

    /// The cached cluster tokens; none when there is no cache or it cannot be read as one (it
    /// is only a cache: the tokens can be exchanged again).
    pub fn cluster_tokens(&self) -> Result<ClusterTokens> {
        let path = self.dir.join(CLUSTER_TOKENS);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClusterTokens::default()),
            Err(e) => Err(local("read", &path, e)),
        }
    }

    /// Saves the cluster tokens.
    pub fn save_cluster_tokens(&self, tokens: &ClusterTokens, _lock: &HomeLock) -> Result<()> {
        self.write(CLUSTER_TOKENS, tokens)
    }

    /// Deletes the cluster tokens: they are the person's, and go when their log-in goes.
    pub fn forget_cluster_tokens(&self, _lock: &HomeLock) -> Result<()> {
        self.remove(CLUSTER_TOKENS).map(drop)
    }

    /// Takes the home's lock, waiting for the process that holds it (which holds it only for
    /// a refresh or a token exchange). Blocking is fine: the command has nothing else to do
    /// until it has its tokens.
    pub fn lock(&self) -> Result<HomeLock> {
        self.create_dir()?;
        let path = self.dir.join(LOCK);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| local("open", &path, e))?;
        file.lock().map_err(|e| local("lock", &path, e))?;
        Ok(HomeLock { _file: file })
    }

    /// Deletes `name`; true if it was there.
    fn remove(&self, name: &str) -> Result<bool> {
        let path = self.dir.join(name);
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

    fn create_dir(&self) -> Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| local("create", &self.dir, e))
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        self.create_dir()?;
        let text = serde_json::to_vec_pretty(value)
            .map_err(|e| CliError::Local(format!("cannot encode {name}: {e}")))?;
        write_private(&self.dir.join(name), &text)
    }
}

/// Writes `bytes` to `path` readable by its owner only (0600), atomically: a reader sees the
/// old file or the new one, never half of one. The temporary file is this write's own (named
/// after the process and a random number), so concurrent writers never share one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_path(path)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| local("create", &tmp, e))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| local("write", &tmp, e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| local("replace", path, e)));
    if written.is_err() {
        // Nothing else would ever delete it.
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.<pid>.<random>.tmp` next to `path`: on the same file system, so the rename is
/// atomic, and hidden.
fn temporary_path(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Local(format!("{} is not a file name", path.display())))?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| CliError::Local(format!("cannot read the OS random source: {e}")))?;
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.{random}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
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
