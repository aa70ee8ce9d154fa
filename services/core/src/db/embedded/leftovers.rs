//! What an earlier run may have left in the data directory: the lock that keeps two servers
//! apart, a Postgres still running after we crashed, and a stale `postmaster.pid`.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::kill;
use nix::unistd::Pid;

use super::{io, stop_escalating, EmbeddedError};

/// Takes the data directory's lock (flock), held while this process uses the directory.
pub(super) fn lock_data_dir(data_dir: &Path) -> Result<Flock<File>, EmbeddedError> {
    let path = data_dir.join("flotilla.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        if errno == Errno::EWOULDBLOCK {
            EmbeddedError::InUse(data_dir.to_owned())
        } else {
            EmbeddedError::Io {
                context: format!("locking {}", path.display()),
                source: errno.into(),
            }
        }
    })
}

/// A `postmaster.pid` left behind means our previous run died without stopping Postgres. As we
/// hold the data-directory lock, no live flotilla-server owns that Postgres: stop it, or drop
/// the stale file if its process is gone.
pub(super) fn stop_orphan(pgdata: &Path) -> Result<(), EmbeddedError> {
    let pid_file = pgdata.join("postmaster.pid");
    let Ok(contents) = fs::read_to_string(&pid_file) else {
        return Ok(());
    };
    let pid = contents
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok());
    let alive_postgres = pid.filter(|pid| is_running(*pid) && is_postgres_of(*pid, pgdata));
    match alive_postgres {
        None => {
            tracing::warn!(file = %pid_file.display(), "embedded postgres: removing a stale pid file");
            fs::remove_file(&pid_file).map_err(io(format!("removing {}", pid_file.display())))
        }
        Some(pid) => {
            tracing::warn!(
                pid,
                "embedded postgres: stopping an orphan left by a previous run"
            );
            let pid = Pid::from_raw(pid);
            if stop_escalating(pid, || !is_running(pid.as_raw())) {
                // The postmaster removes its pid file on a clean exit, not on SIGKILL.
                let _ = fs::remove_file(&pid_file);
                return Ok(());
            }
            Err(EmbeddedError::Failed(format!(
                "an orphaned postgres (pid {pid}) holds {} and would not stop",
                pgdata.display()
            )))
        }
    }
}

/// Whether `pid` is a live process. A zombie (exited, not yet reaped by its parent) is not.
fn is_running(pid: i32) -> bool {
    let exists = matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM));
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the parenthesised command name: "pid (comm) S ...".
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
    exists && !zombie
}

/// Whether process `pid` is a postgres serving `pgdata` (so a recycled pid is left alone).
fn is_postgres_of(pid: i32, pgdata: &Path) -> bool {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_postgres = args
        .first()
        .map(|a| a.ends_with(b"postgres"))
        .unwrap_or(false);
    let dir = pgdata.as_os_str().as_encoded_bytes();
    is_postgres && args.contains(&dir)
}
