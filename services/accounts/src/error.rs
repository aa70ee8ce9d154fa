//! The accounts crate's error type. API routes answer problem+json (through the core error);
//! the OAuth endpoints answer as RFC 6749 says (`{"error": ..., "error_description": ...}`);
//! browser pages wrap either in [`crate::pages::PageError`] and render an HTML page.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Errors of the accounts service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Any error with a problem+json answer.
    #[error(transparent)]
    Core(#[from] flotilla_core::Error),
    /// An OAuth 2.0 error of the token, device or revocation endpoints.
    #[error("{0}")]
    OAuth(OAuthError),
}

impl Error {
    /// An internal failure (logged, answered generically).
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Core(flotilla_core::Error::Internal(e.into()))
    }

    /// A validation error about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Core(flotilla_core::Error::invalid(field, message))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Core(e.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Core(e) => e.into_response(),
            Error::OAuth(e) => e.into_response(),
        }
    }
}

/// Result with the accounts error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An OAuth 2.0 error response (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthError {
    /// The error code, e.g. `invalid_grant`, `authorization_pending`, `slow_down`.
    pub error: &'static str,
    /// What went wrong, for a person.
    pub error_description: String,
    /// For `temporarily_unavailable`: seconds until a retry may succeed (`Retry-After`).
    #[serde(skip)]
    #[schema(ignore)]
    retry_after: Option<u64>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.error_description)
    }
}

impl OAuthError {
    /// An error with code `error`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
            retry_after: None,
        }
    }

    /// `temporarily_unavailable`: rate-limited, retry in `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                "temporarily_unavailable",
                format!("Too many requests; retry in {seconds} s."),
            )
        }
    }

    /// 401 for `invalid_client`, 429 when rate-limited, 400 otherwise.
    fn status(&self) -> StatusCode {
        match self.error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<OAuthError> for Error {
    fn from(e: OAuthError) -> Self {
        Error::OAuth(e)
    }
}

/// Shorthand for an OAuth error.
pub fn oauth(error: &'static str, description: impl Into<String>) -> Error {
    Error::OAuth(OAuthError::new(error, description))
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(&self)).into_response();
        // RFC 6749's JSON, not problem+json: OAuth clients expect it.
        response
            .extensions_mut()
            .insert(flotilla_core::http::problems::KeepErrorBody);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
