//! The core crate's error type and its one mapping to problem+json. A 5xx logs its cause here
//! and answers with a generic detail, so internals never reach a client.

use axum::http::{header, HeaderValue, StatusCode};
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
    /// No credential, or one that is invalid, expired or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests; retry in {0} s")]
    RateLimited(u64),
    /// Nothing there (or nothing the caller may know about).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A precondition of the request (`If-None-Match: *`) does not hold.
    #[error("{0}")]
    PreconditionFailed(String),
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
            Error::Unauthorized(d) => Problem::for_status(StatusCode::UNAUTHORIZED, d.clone()),
            Error::Forbidden(d) => Problem::for_status(StatusCode::FORBIDDEN, d.clone()),
            Error::RateLimited(secs) => Problem::for_status(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many attempts; try again in {secs} s."),
            ),
            Error::NotFound(d) => Problem::for_status(StatusCode::NOT_FOUND, d.clone()),
            Error::Conflict(d) => Problem::for_status(StatusCode::CONFLICT, d.clone()),
            Error::PreconditionFailed(d) => {
                Problem::for_status(StatusCode::PRECONDITION_FAILED, d.clone())
            }
            Error::Unavailable(d) => {
                Problem::for_status(StatusCode::SERVICE_UNAVAILABLE, d.clone())
            }
            Error::Database(_) | Error::Internal(_) => {
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_DETAIL)
            }
        }
    }
}

impl Error {
    /// Logs the cause of a 5xx, whose answer only says that it was logged. Whatever renders
    /// this error (as a problem, or as a page) calls it.
    pub fn log_cause(&self) {
        match self {
            Error::Database(e) => tracing::error!(error = %e, "request failed: database"),
            Error::Internal(e) => tracing::error!(error = format!("{e:#}"), "request failed"),
            _ => {}
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_cause();
        let mut response = self.to_problem().into_response();
        let headers = response.headers_mut();
        match &self {
            Error::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::RateLimited(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}

/// Result with the core error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
