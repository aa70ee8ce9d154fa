//! The core crate's error type and its one mapping to problem+json. A 5xx logs its cause here
//! and answers with a generic detail, so internals never reach a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::db::outage::{DatabaseAway, Failure, RETRY_AFTER_SECS};
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
    /// A database failure: logged; answered 503 when the database is away (see
    /// [`Failure`]), with a generic 500 otherwise.
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
            Error::Database(e) => match Failure::of(e) {
                Failure::Unreachable => Problem::for_status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("Flotilla cannot reach its database right now; retry in {RETRY_AFTER_SECS} s."),
                ),
                // Whether a commit happened cannot be known: a retried create would make a
                // second one, so the client must hear that it may have happened.
                Failure::Lost => Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    OUTCOME_UNKNOWN,
                    "Flotilla lost its database connection while answering: if this request \
                     changes something, it may or may not have been done. Check before retrying.",
                ),
                Failure::Other => {
                    Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_DETAIL)
                }
            },
            Error::Internal(_) => {
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_DETAIL)
            }
        }
    }

    /// Whether this error means the database is away (answered 503 with `Retry-After`).
    fn database_away(&self) -> bool {
        matches!(self, Error::Database(e) if Failure::of(e) != Failure::Other)
    }
}

/// The problem type of a request whose effect is unknown (its database connection broke).
pub const OUTCOME_UNKNOWN: &str = "outcome-unknown";

impl Error {
    /// Logs the cause of a 5xx, whose answer only says that it was logged. Whatever renders
    /// this error (as a problem, or as a page) calls it.
    pub fn log_cause(&self) {
        match self {
            Error::Database(e) if self.database_away() => {
                tracing::warn!(error = %e, "request failed: the database is away");
            }
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
            _ if self.database_away() => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
                response.extensions_mut().insert(DatabaseAway);
            }
            _ => {}
        }
        response
    }
}

/// The answer while the database is known to be away: the breaker's (see
/// [`crate::db::outage`]), which logged the outage once rather than once per request.
pub fn database_away() -> Response {
    let mut response = Error::Database(sqlx::Error::PoolTimedOut)
        .to_problem()
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// Result with the core error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
