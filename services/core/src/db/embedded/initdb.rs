//! First use of a data directory: `initdb` with a generated superuser password.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::chown;
use secrecy::SecretString;

use super::{io, EmbeddedError, RunAs, SUPERUSER};
use crate::db::binaries::PostgresBinaries;

/// Creates the cluster in `pgdata` and returns its superuser's password, also saved (0600) in
/// `<data_dir>/postgres.password`.
pub(super) fn initialise(
    binaries: &PostgresBinaries,
    data_dir: &Path,
    pgdata: &Path,
    run_as: Option<&RunAs>,
) -> Result<SecretString, EmbeddedError> {
    // initdb works in a scratch directory renamed into place at the end, so a crash during
    // initialisation never leaves a half-made cluster that a later start would try to use.
    // Beside the cluster: in the data directory, or where Postgres can reach (see cluster_home).
    let home = pgdata.parent().unwrap_or(data_dir);
    let scratch = home.join("postgres.init");
    if scratch.exists() {
        fs::remove_dir_all(&scratch).map_err(io(format!("removing {}", scratch.display())))?;
    }
    fs::create_dir(&scratch).map_err(io(format!("creating {}", scratch.display())))?;
    fs::set_permissions(&scratch, fs::Permissions::from_mode(0o700))
        .map_err(io("securing the scratch directory"))?;

    let password = random_hex(24)?;
    let pwfile = home.join("initdb.pwfile");
    write_private(&pwfile, &password)?;
    if let Some(user) = run_as {
        for path in [&scratch, &pwfile] {
            chown(path.as_path(), Some(user.uid), Some(user.gid)).map_err(|e| {
                EmbeddedError::Io {
                    context: format!("handing {} to the postgres user", path.display()),
                    source: e.into(),
                }
            })?;
        }
    }
    let mut command = Command::new(binaries.initdb());
    command
        .arg("-D")
        .arg(&scratch)
        .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(home);
    if let Some(user) = run_as {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let output = command
        .output()
        .map_err(io(format!("running {}", binaries.initdb().display())));
    let _ = fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(EmbeddedError::Failed(format!(
            "initdb failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    write_private(&data_dir.join("postgres.password"), &password)?;
    fs::rename(&scratch, pgdata).map_err(io(format!(
        "moving the new cluster to {}",
        pgdata.display()
    )))?;
    Ok(SecretString::from(password))
}

pub(super) fn read_password(data_dir: &Path, pgdata: &Path) -> Result<SecretString, EmbeddedError> {
    let path = data_dir.join("postgres.password");
    let password = fs::read_to_string(&path).map_err(|e| {
        EmbeddedError::Failed(format!(
            "the embedded cluster in {} exists but its password file {} cannot be read ({e}); \
             if the data directory was deleted on purpose, delete {} too to start afresh",
            pgdata.display(),
            path.display(),
            pgdata.display()
        ))
    })?;
    Ok(SecretString::from(password.trim().to_owned()))
}

fn write_private(path: &Path, contents: &str) -> Result<(), EmbeddedError> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("creating {}", path.display())))?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(io(format!("writing {}", path.display())))
}

fn random_hex(bytes: usize) -> Result<String, EmbeddedError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| EmbeddedError::Failed(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
