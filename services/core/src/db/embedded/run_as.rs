//! As root, the embedded Postgres runs as an unprivileged user (Postgres refuses to run as
//! root), and that user may be unable to reach the data directory (a checkout under `/root`):
//! who it runs as, and where its cluster then lives.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::unistd::User;

use super::{io, EmbeddedError};

/// The unprivileged user Postgres runs as when we are root.
pub(super) struct RunAs {
    pub(super) name: String,
    pub(super) uid: nix::unistd::Uid,
    pub(super) gid: nix::unistd::Gid,
}

pub(super) fn run_as_user() -> Result<Option<RunAs>, EmbeddedError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = User::from_name(name) {
            return Ok(Some(RunAs {
                name: user.name,
                uid: user.uid,
                gid: user.gid,
            }));
        }
    }
    Err(EmbeddedError::Failed(
        "running as root, and Postgres refuses to: create a `postgres` user, run flotilla-server \
         as another user, or set DATABASE_URL"
            .into(),
    ))
}

/// Where clusters live whose data directory Postgres cannot reach.
pub const UNREACHABLE_FALLBACK: &str = "/var/lib/flotilla-embedded";

/// The directory that holds the cluster (`postgres/`): the data directory itself, unless we
/// are root and the unprivileged user Postgres runs as cannot walk down to it (a checkout
/// under `/root`, say). Then the cluster goes to `/var/lib/flotilla-embedded/<escaped path of
/// the data directory>`, tied to that data directory, while the lock and the password stay in
/// the data directory; the log says so.
pub(super) fn cluster_home(
    data_dir: &Path,
    run_as: Option<&RunAs>,
) -> Result<PathBuf, EmbeddedError> {
    let Some(user) = run_as else {
        return Ok(data_dir.to_owned());
    };
    let Some((blocked, mode)) = blocked_ancestor(data_dir, user) else {
        return Ok(data_dir.to_owned());
    };
    let fallback = Path::new(UNREACHABLE_FALLBACK);
    let home = fallback.join(escape_path(data_dir));
    if blocked_ancestor(&home.join("postgres"), user).is_some() {
        return Err(EmbeddedError::Failed(format!(
            "the embedded Postgres runs as the `{}` user (Postgres refuses to run as root), \
             which cannot enter {} (mode {mode:o}) on the way to FLOTILLA_DATA_DIR {}, nor \
             reach {}: choose a data directory it can reach, run flotilla-server as a \
             non-root user, or set DATABASE_URL",
            user.name,
            blocked.display(),
            data_dir.display(),
            fallback.display()
        )));
    }
    for dir in [fallback, home.as_path()] {
        fs::create_dir_all(dir)
            .and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o711)))
            .map_err(io(format!("creating {}", dir.display())))?;
    }
    tracing::warn!(
        blocked = %blocked.display(),
        cluster = %home.join("postgres").display(),
        "embedded postgres: the `{}` user cannot reach FLOTILLA_DATA_DIR; keeping its cluster in {} instead",
        user.name,
        home.display(),
    );
    Ok(home)
}

/// The first directory on the way to `path` that `user` may not enter, with its mode.
fn blocked_ancestor<'a>(path: &'a Path, user: &RunAs) -> Option<(&'a Path, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    ancestors.reverse();
    ancestors.into_iter().find_map(|dir| {
        let meta = fs::metadata(dir).ok()?;
        let mode = meta.mode();
        let can_enter = mode & 0o001 != 0
            || (meta.uid() == user.uid.as_raw() && mode & 0o100 != 0)
            || (meta.gid() == user.gid.as_raw() && mode & 0o010 != 0);
        (!can_enter).then_some((dir, mode & 0o7777))
    })
}

/// An absolute path as one file name, reversibly: `%` becomes `%25`, `/` becomes `%2F`.
fn escape_path(path: &Path) -> String {
    path.to_string_lossy()
        .replace('%', "%25")
        .replace('/', "%2F")
}
