//! RFC 9457 problem details: the one shape of every error Flotilla returns. Each kind of
//! problem has a stable `type` URI that clients may switch on; `title` is that kind's fixed
//! summary and `detail` says what went wrong with this request.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The detail of every 5xx: its cause goes to the log, never to the client.
pub const INTERNAL_ERROR_DETAIL: &str =
    "The server failed to handle this request; it has been logged.";

/// A problem details document (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:flotilla:problem:not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "There is nothing at /nope.",
    "request_id": "0b9c2a4e-6f1e-4a4b-9b1e-2f6f3c1d2e3f"
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:flotilla:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in words for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request's id (also in the `x-request-id` header), to quote when asking for help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For validation problems: each offending field and what is wrong with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the field is, as a JSON pointer into the body (`/labels/region`) or a parameter name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The stable slug of the problem type used for a bare HTTP status.
pub fn slug_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        406 => "not-acceptable",
        408 => "request-timeout",
        409 => "conflict",
        412 => "precondition-failed",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        422 => "validation",
        429 => "rate-limited",
        503 => "unavailable",
        504 => "timeout",
        s if s >= 500 => "internal",
        _ => "client-error",
    }
}

impl Problem {
    /// A problem of type `urn:flotilla:problem:<slug>` with the status's canonical title.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:flotilla:problem:{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: Some(detail.into()).filter(|d: &String| !d.is_empty()),
            request_id: None,
            errors: Vec::new(),
        }
    }

    /// The generic problem for a status, with the standard slug.
    pub fn for_status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new(status, slug_for_status(status), detail)
    }

    /// Adds the offending fields.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// The HTTP status, falling back to 500 for a nonsensical value.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}
