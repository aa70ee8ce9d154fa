//! The core crate's error type and its one mapping to problem+json. A 5xx logs its cause here
//! and answers with a generic detail, so internals never reach a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::problem::{FieldError, Problem, INTERNAL_ERROR_DETAIL};

/// Errors of the core crate, and the shapes other crates map theirs into.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed in a way that is not about one field.
    #[error("{0}")]
    BadRequest(String),
    /// One or more fields are invalid.
    #[error("invalid request: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// Nothing there (or nothing the caller may know about).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A dependency (the database) is not available right now.
    #[error("{0}")]
    Unavailable(String),
    /// A database failure: logged, answered with a generic 500.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Any other failure of ours: logged, answered with a generic 500.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A validation error about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The problem document this error answers with.
    pub fn to_problem(&self) -> Problem {
        match self {
            Error::BadRequest(d) => Problem::for_status(StatusCode::BAD_REQUEST, d.clone()),
            Error::Validation(errors) => {
                Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY, self.to_string())
                    .with_errors(errors.clone())
            }
            Error::NotFound(d) => Problem::for_status(StatusCode::NOT_FOUND, d.clone()),
            Error::Conflict(d) => Problem::for_status(StatusCode::CONFLICT, d.clone()),
            Error::Unavailable(d) => {
                Problem::for_status(StatusCode::SERVICE_UNAVAILABLE, d.clone())
            }
            Error::Database(_) | Error::Internal(_) => {
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_DETAIL)
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Database(e) => tracing::error!(error = %e, "request failed: database"),
            Error::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            _ => {}
        }
        self.to_problem().into_response()
    }
}

/// Result with the core error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
