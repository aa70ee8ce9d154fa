//! Flotilla's API through `flotilla-client`, the typed client the CLI shares with the agent:
//! the client as the CLI sets it up, and its errors as the CLI reports them (one line, with
//! the exit code that tells a typo from an expired log-in from a server in trouble).

use std::time::Duration;

use flotilla_client::{Client, Error};

use crate::error::{CliError, Result};

pub use flotilla_client::oauth::CLI_CLIENT_ID as CLIENT_ID;

/// How long a call may take, connecting included (the client connects within 10 s).
const TIMEOUT: Duration = Duration::from_secs(60);

/// A client of `server` (an http(s) URL), as `flotilla-cli/<version>`.
pub fn client(server: &str) -> Result<Client> {
    Client::new(
        server,
        concat!("flotilla-cli/", env!("CARGO_PKG_VERSION")),
        TIMEOUT,
    )
    .map_err(CliError::from)
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        match e {
            Error::Unreachable { server, why } => CliError::Server(format!(
                "cannot reach {server} ({why}); check --server and your network"
            )),
            Error::Refused {
                status, problem, ..
            } => refusal(status, problem.as_deref()),
            Error::Unexpected { server, status, .. } if status >= 500 => CliError::Server(format!(
                "{server} failed ({}); try again later",
                reason(status)
            )),
            Error::Unexpected { .. } => CliError::Server(e.to_string()),
            // A name or id from the command line that cannot be a path segment.
            Error::InvalidName(why) => CliError::Usage(why),
            // The saved server, or `--server`.
            Error::InvalidServer(why) => CliError::Usage(format!("--server {why}")),
            Error::Setup(why) => CliError::Local(why),
        }
    }
}

/// The error a refused call stands for, from its problem document.
fn refusal(status: u16, problem: Option<&flotilla_client::Problem>) -> CliError {
    let detail = match problem.map(flotilla_client::Problem::summary) {
        Some(summary) if !summary.is_empty() => summary,
        _ => format!("the server answered {}", reason(status)),
    };
    match status {
        401 => CliError::Auth(format!(
            "{detail} Run `flotilla configure` to log in again."
        )),
        403 => CliError::Auth(detail),
        500.. => CliError::Server(format!(
            "{detail} (the server failed: {}; try again later)",
            reason(status)
        )),
        _ => CliError::Refused(detail),
    }
}

/// `503 Service Unavailable`: the status with its reason phrase.
fn reason(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status) {
        Ok(code) => code.to_string(),
        Err(_) => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use flotilla_client::{FieldError, Problem};

    use super::*;

    fn refused(status: u16, problem: Option<Problem>) -> CliError {
        CliError::from(Error::Refused {
            server: "https://flotilla.example.com".into(),
            status,
            problem: problem.map(Box::new),
        })
    }

    fn problem(detail: &str) -> Option<Problem> {
        Some(Problem {
            type_: "urn:flotilla:problem:x".into(),
            title: "Title".into(),
            detail: Some(detail.into()),
            ..Problem::default()
        })
    }

    #[test]
    fn each_refusal_has_its_kind_and_says_what_to_do() {
        let e = refused(401, problem("The token has expired."));
        assert!(matches!(e, CliError::Auth(_)));
        assert_eq!(
            e.to_string(),
            "The token has expired. Run `flotilla configure` to log in again."
        );
        assert!(
            matches!(refused(403, problem("admins only")), CliError::Auth(m) if m == "admins only")
        );
        let e = refused(503, problem("the database is away"));
        assert!(matches!(e, CliError::Server(_)));
        assert_eq!(
            e.to_string(),
            "the database is away (the server failed: 503 Service Unavailable; try again later)"
        );
        let invalid = problem("invalid registration").map(|p| Problem {
            errors: vec![FieldError {
                field: "/labels/region".into(),
                message: "too long".into(),
            }],
            ..p
        });
        let e = refused(422, invalid);
        assert!(matches!(e, CliError::Refused(_)));
        assert_eq!(
            e.to_string(),
            "invalid registration (/labels/region: too long)"
        );
    }

    #[test]
    fn a_refusal_without_a_problem_says_the_status() {
        assert_eq!(
            refused(502, None).to_string(),
            "the server answered 502 Bad Gateway (the server failed: 502 Bad Gateway; try again later)"
        );
    }

    #[test]
    fn unreachable_bad_names_and_bad_servers() {
        let e = CliError::from(Error::Unreachable {
            server: "http://127.0.0.1:9".into(),
            why: "cannot connect".into(),
        });
        assert_eq!(e.exit_code(), 4);
        assert_eq!(
            e.to_string(),
            "cannot reach http://127.0.0.1:9 (cannot connect); check --server and your network"
        );
        let e = client("https://flotilla.example.com")
            .expect("a client")
            .operation_url(&flotilla_client::GET_CLUSTER, &["acme", "../tokens"])
            .map_err(CliError::from)
            .expect_err("refused");
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("\"../tokens\" is not a valid name or id"),
            "{e}"
        );
        for bad in ["ftp://flotilla.example.com", "not a url"] {
            let e = client(bad).expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{e}");
            assert!(e.to_string().starts_with("--server "), "{e}");
        }
    }
}
