//! A private Postgres run from the installed binaries, in `<data-dir>/postgres`, for
//! development and for the test harness (like `vault server -dev`).
//!
//! Layout of the data directory:
//! - `postgres/`: the cluster (owned by the `postgres` user when we run as root, since Postgres
//!   refuses to run as root; if that user cannot reach the data directory, the cluster is kept
//!   in `/var/lib/flotilla-embedded/<escaped path>/postgres` instead, see `cluster_home`);
//! - `postgres.password`: the generated password of the `flotilla` superuser (0600);
//! - `postgres.log`: the server's log;
//! - `flotilla.lock`: held (flock) while a flotilla-server uses the directory.
//!
//! Postgres listens on 127.0.0.1 only, on a free port chosen at each start, with SCRAM
//! authentication and no Unix socket. It runs in its own process group (a Ctrl-C meant for us
//! does not reach it) and is told to shut down if we die (parent-death signal); should that
//! fail, the next start finds the orphan through `postmaster.pid` and stops it first.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::Flock;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;

mod initdb;
mod leftovers;
mod run_as;

use super::binaries::PostgresBinaries;
use initdb::{initialise, read_password};
use leftovers::{lock_data_dir, stop_orphan};
pub use run_as::UNREACHABLE_FALLBACK;
use run_as::{cluster_home, run_as_user, RunAs};

/// The superuser Flotilla creates in its embedded cluster.
pub const SUPERUSER: &str = "flotilla";

/// How the embedded Postgres is run.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// `FLOTILLA_DATA_DIR`: holds the cluster and its password.
    pub data_dir: PathBuf,
    /// Keep fsync on. Off only for throwaway test clusters.
    pub durable: bool,
    /// `max_connections` of the cluster.
    pub max_connections: u32,
    /// The port to listen on; a free one when `None`. (Tests that stop and start a cluster
    /// under a running server need it back on the same port.)
    pub port: Option<u16>,
    /// Signal Postgres gets when our process dies: SIGINT (fast, clean shutdown) for the server,
    /// SIGQUIT (immediate) for throwaway test clusters.
    pub on_parent_death: Signal,
}

impl EmbeddedOptions {
    /// Options for a durable cluster in `data_dir`.
    pub fn durable(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            durable: true,
            max_connections: 100,
            port: None,
            on_parent_death: Signal::SIGINT,
        }
    }
}

/// Why the embedded Postgres could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No binaries installed.
    #[error("{0}")]
    NotInstalled(String),
    /// Another flotilla-server already uses this data directory.
    #[error("FLOTILLA_DATA_DIR {0} is in use by another running flotilla-server")]
    InUse(PathBuf),
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The failure.
        source: std::io::Error,
    },
    /// initdb or postgres failed; the message carries the tail of their output.
    #[error("{0}")]
    Failed(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// A running embedded Postgres. Stopped by [`EmbeddedPostgres::stop`] or on drop.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    child: Option<Child>,
    port: u16,
    password: SecretString,
    _lock: Flock<File>,
}

impl EmbeddedPostgres {
    /// Starts (initialising on first use) the cluster in `options.data_dir` and waits until it
    /// accepts connections. Blocking: call it from a blocking context.
    pub fn start(options: &EmbeddedOptions) -> Result<Self, EmbeddedError> {
        let binaries = PostgresBinaries::locate().map_err(EmbeddedError::NotInstalled)?;
        let data_dir = std::path::absolute(&options.data_dir)
            .map_err(io(format!("resolving {}", options.data_dir.display())))?;
        let run_as = run_as_user()?;
        if !data_dir.exists() {
            fs::create_dir_all(&data_dir)
                .map_err(io(format!("creating {}", data_dir.display())))?;
            // Ours alone; Postgres (as another user when we are root) may traverse it, never
            // list it. A directory that was already there keeps the modes its owner chose.
            let mode = if run_as.is_some() { 0o711 } else { 0o700 };
            fs::set_permissions(&data_dir, fs::Permissions::from_mode(mode))
                .map_err(io(format!("securing {}", data_dir.display())))?;
        }

        let lock = lock_data_dir(&data_dir)?;
        let pgdata = cluster_home(&data_dir, run_as.as_ref())?.join("postgres");
        let cluster_home = pgdata.parent().unwrap_or(&data_dir).to_owned();
        stop_orphan(&pgdata)?;

        let password = if pgdata.join("PG_VERSION").exists() {
            tracing::info!(dir = %pgdata.display(), "embedded postgres: reusing the existing cluster");
            read_password(&data_dir, &pgdata)?
        } else {
            tracing::info!(dir = %pgdata.display(), "embedded postgres: initialising a new cluster");
            initialise(&binaries, &data_dir, &pgdata, run_as.as_ref())?
        };

        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        let log_path = data_dir.join("postgres.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let mut command = Command::new(binaries.postgres());
        command
            .arg("-D")
            .arg(&pgdata)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args([
                "-c",
                &format!("max_connections={}", options.max_connections),
            ])
            .current_dir(&cluster_home)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("duplicating the log file"))?)
            .stderr(log)
            .process_group(0);
        if !options.durable {
            for setting in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                command.args(["-c", setting]);
            }
        }
        if let Some(user) = &run_as {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        let child = spawn_tied_to_us(command, options.on_parent_death)
            .map_err(io(format!("starting {}", binaries.postgres().display())))?;

        let mut embedded = Self {
            child: Some(child),
            port,
            password,
            _lock: lock,
        };
        embedded.wait_until_ready(&pgdata, &log_path)?;
        tracing::info!(port, "embedded postgres: ready");
        Ok(embedded)
    }

    /// Connection options for the `postgres` database as the superuser.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(self.password.expose_secret())
            .database("postgres")
    }

    /// A `postgres://` URL of `database` as the superuser (it holds the password).
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password.expose_secret(),
            self.port
        )
    }

    /// Lets go of Postgres without stopping it, and of the data-directory lock: what a crash
    /// of ours used to leave behind. Returns the orphan's pid. For tests of orphan handling.
    #[cfg(feature = "test-support")]
    pub fn into_orphan(mut self) -> u32 {
        // Not waited for on purpose: the point is to leave it running. The test reaps nothing,
        // so it stays a zombie of the test process once stopped, which `is_running` allows for.
        #[allow(clippy::zombie_processes)]
        let child = self.child.take().expect("a running postgres");
        child.id()
    }

    fn wait_until_ready(&mut self, pgdata: &Path, log_path: &Path) -> Result<(), EmbeddedError> {
        // Crash recovery after an unclean stop can take a while on a big cluster.
        let deadline = Instant::now() + Duration::from_secs(120);
        let pid_file = pgdata.join("postmaster.pid");
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(EmbeddedError::Failed(format!(
                        "embedded postgres exited during start-up ({status}); its log ({}) ends with:\n{}",
                        log_path.display(),
                        tail(log_path, 15)
                    )));
                }
            }
            // Line 8 of postmaster.pid is the server's status, "ready" once it accepts connections.
            let status = fs::read_to_string(&pid_file).unwrap_or_default();
            if status.lines().nth(7).map(str::trim) == Some("ready") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EmbeddedError::Failed(format!(
                    "embedded postgres did not become ready within 120 s; its log ({}) ends with:\n{}",
                    log_path.display(),
                    tail(log_path, 15)
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops Postgres cleanly (fast shutdown), escalating if it does not stop in time.
    /// Blocking: call it from a blocking context.
    pub fn stop(mut self) {
        self.stop_child();
    }

    fn stop_child(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = Pid::from_raw(child.id() as i32);
        if stop_escalating(pid, || matches!(child.try_wait(), Ok(Some(_)))) {
            tracing::info!("embedded postgres: stopped");
        } else {
            tracing::error!(%pid, "embedded postgres: would not stop, even on SIGKILL");
        }
    }
}

/// Asks Postgres to stop (SIGINT: fast shutdown, clean), then insists (SIGQUIT: immediate,
/// crash recovery at the next start), then kills it; `gone` says when it has exited.
/// Returns whether it did.
fn stop_escalating(pid: Pid, mut gone: impl FnMut() -> bool) -> bool {
    for (signal, wait) in [
        (Signal::SIGINT, Duration::from_secs(10)),
        (Signal::SIGQUIT, Duration::from_secs(5)),
        (Signal::SIGKILL, Duration::from_secs(5)),
    ] {
        let _ = kill(pid, signal);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if gone() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tracing::warn!(?signal, %pid, "embedded postgres: did not stop in time, escalating");
    }
    false
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop_child();
    }
}

/// A port that was free a moment ago. Postgres fails clearly in the rare case it is taken.
pub fn free_port() -> Result<u16, EmbeddedError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io("finding a free port"))
}

fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(8192)));
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Spawns `command` from a thread that lives as long as the process, with a parent-death
/// signal: Linux delivers it when the spawning *thread* exits, so a short-lived thread (a
/// blocking-pool worker, a test thread) must not be the parent.
fn spawn_tied_to_us(mut command: Command, signal: Signal) -> std::io::Result<Child> {
    #[allow(unsafe_code)]
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe; it allocates nothing and takes no locks.
    unsafe {
        command
            .pre_exec(move || nix::sys::prctl::set_pdeathsig(signal).map_err(std::io::Error::from));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || {
            let _ = tx.send(command.spawn());
            // Park forever: this thread's exit would deliver the parent-death signal.
            loop {
                std::thread::park();
            }
        })?;
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("spawner thread died")))
}
