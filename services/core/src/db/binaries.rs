//! Finding the installed Postgres server binaries (`initdb`, `postgres`): on `PATH`, through
//! `pg_config --bindir`, or under `/usr/lib/postgresql/<version>/bin`, newest first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory holding both `initdb` and `postgres`.
#[derive(Debug, Clone)]
pub struct PostgresBinaries {
    initdb: PathBuf,
    postgres: PathBuf,
}

/// How to get Postgres when none is installed; shown to the operator as is.
pub const INSTALL_HINT: &str =
    "no Postgres server binaries found (looked for initdb and postgres on PATH, \
through `pg_config --bindir`, and under /usr/lib/postgresql/*/bin). Install Postgres \
(Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@16`; Fedora: \
`dnf install postgresql-server`) or set DATABASE_URL to an existing database";

impl PostgresBinaries {
    /// Finds the binaries, or explains how to install them.
    pub fn locate() -> Result<Self, String> {
        candidate_dirs()
            .into_iter()
            .find_map(|dir| Self::in_dir(&dir))
            .ok_or_else(|| INSTALL_HINT.to_string())
    }

    /// The binaries in `dir`, when both are there.
    pub fn in_dir(dir: &Path) -> Option<Self> {
        let initdb = dir.join("initdb");
        let postgres = dir.join("postgres");
        (is_executable(&initdb) && is_executable(&postgres)).then_some(Self { initdb, postgres })
    }

    /// Path of `initdb`.
    pub fn initdb(&self) -> &Path {
        &self.initdb
    }

    /// Path of `postgres`.
    pub fn postgres(&self) -> &Path {
        &self.postgres
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    dirs.extend(versioned.into_iter().map(|(_, d)| d));
    dirs
}
