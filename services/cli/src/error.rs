//! The CLI's one error type. Each kind has its own exit code, so scripts can tell a typo from
//! an expired log-in from a server in trouble, and each message is one line that says what to
//! do.

/// Exit code for usage errors (clap uses it too).
pub const EXIT_USAGE: i32 = 2;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line or a file given on it is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Not logged in, log-in expired or revoked, or not allowed (exit 3).
    #[error("{0}")]
    Auth(String),
    /// The server refused the request: not found, invalid, conflict (exit 1).
    #[error("{0}")]
    Refused(String),
    /// The server cannot be reached, failed, or answered nonsense (exit 4).
    #[error("{0}")]
    Server(String),
    /// A local file or the terminal failed (exit 1).
    #[error("{0}")]
    Local(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Refused(_) | CliError::Local(_) => 1,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Auth(_) => 3,
            CliError::Server(_) => 4,
        }
    }

    /// Not logged in (or no server known).
    pub fn not_logged_in() -> CliError {
        CliError::Auth("not logged in: run `flotilla configure`".into())
    }
}

/// The CLI's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// A local I/O failure about `path`.
pub fn local(what: &str, path: &std::path::Path, e: std::io::Error) -> CliError {
    CliError::Local(format!("cannot {what} {}: {e}", path.display()))
}
