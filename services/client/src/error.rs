//! What a call can end in besides its answer: the server unreachable, a refusal with its
//! problem document, or an answer that is not what the API describes.

use serde::{Deserialize, Serialize};

/// An RFC 9457 problem document, as Flotilla answers every refusal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:flotilla:problem:validation`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(default)]
    pub detail: Option<String>,
    /// For validation problems: each offending field and what is wrong with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request's id, to quote when asking for help.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// A JSON pointer into the body (`/labels/region`) or a parameter name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Problem {
    /// The detail (or the title), followed by each field error: one line for a person.
    pub fn summary(&self) -> String {
        let mut text = self
            .detail
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| self.title.clone());
        if !self.errors.is_empty() {
            let fields: Vec<String> = self
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            text = format!("{text} ({})", fields.join("; "));
        }
        text
    }
}

/// `: <summary>` of a problem document, or nothing without one.
fn colon_summary(problem: Option<&Problem>) -> String {
    problem.map_or_else(String::new, |p| format!(": {}", p.summary()))
}

/// Why a call did not give its answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer: the server could not be reached, or did not answer in time.
    #[error("cannot reach {server} ({why})")]
    Unreachable {
        /// The server's URL.
        server: String,
        /// What happened, for a person.
        why: String,
    },
    /// The server refused the request (a 4xx or 5xx status).
    #[error("{server} answered {status}{}", colon_summary(problem.as_deref()))]
    Refused {
        /// The server's URL.
        server: String,
        /// The status.
        status: u16,
        /// Its problem document; none when the body held none (a proxy's error page).
        problem: Option<Box<Problem>>,
    },
    /// The server answered with something the API does not describe.
    #[error("{server} answered {status} with {what}")]
    Unexpected {
        /// The server's URL.
        server: String,
        /// The status.
        status: u16,
        /// What was wrong with the answer.
        what: String,
    },
    /// A name or id given for the path cannot name anything on the server.
    #[error("{0}")]
    InvalidName(String),
    /// The server's URL is not an http(s) URL with a host.
    #[error("{0}")]
    InvalidServer(String),
    /// The client itself could not be set up (no TLS roots), or the caller could not make
    /// what the call needs.
    #[error("{0}")]
    Setup(String),
}

impl Error {
    /// The HTTP status of a refusal or an unexpected answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Refused { status, .. } | Error::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem document of a refusal.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Refused { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: no answer, or a server failure (5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Refused { status, .. } | Error::Unexpected { status, .. } => {
                *status >= 500 || *status == 429
            }
            Error::InvalidName(_) | Error::InvalidServer(_) | Error::Setup(_) => false,
        }
    }
}
