//! Makes every error response problem+json, whoever produced it: our handlers (already problem
//! documents: only the request id is added), axum's rejections and fallbacks (404, 405, 415,
//! malformed JSON, bodies over the limit) and the envelope's own answers (413 for a declared
//! body over the limit, timeouts, panics). One place (called by the envelope), so no route can answer in another shape.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::problem::{FieldError, Problem, INTERNAL_ERROR_DETAIL, PROBLEM_JSON};
use crate::telemetry::panic_message;

/// At most this much of a replaced 5xx body goes to the log.
const MAX_LOGGED_BODY: usize = 2048;

/// Error bodies larger than this are not read back (ours are far smaller).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The limits every request is held to, which problem details quote.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The request body limit, in bytes.
    pub body_limit: u64,
    /// The request timeout.
    pub timeout: Duration,
}

/// A response extension: this error response is in the format its protocol requires (an
/// HTML page for a browser, an RFC 6749 error for an OAuth client), so the envelope keeps
/// its body instead of turning it into a problem document.
#[derive(Debug, Clone, Copy)]
pub struct KeepErrorBody;

/// Turns an error response into a problem document stamped with the request id: ours
/// already are (only the id is added); others get a detail from their text or our words.
pub async fn into_problem(
    response: Response,
    limits: Limits,
    method: &Method,
    uri: &Uri,
    request_id: &HeaderValue,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let status = parts.status;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();

    let mut problem = if content_type.starts_with(PROBLEM_JSON) {
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => problem,
            Err(_) => Problem::for_status(status, ""),
        }
    } else {
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        if status.is_server_error() && !text.is_empty() {
            // Whatever a 5xx body says may be internal: keep it in the log, not the answer.
            let logged: String = text.chars().take(MAX_LOGGED_BODY).collect();
            tracing::error!(status = status.as_u16(), body = %logged, "error response replaced by a problem document");
        }
        let is_text = content_type.is_empty() || content_type.starts_with("text/plain");
        // Limits and timeouts are explained in our words (with the limit); other client
        // errors keep the text of whoever refused the request (e.g. the JSON parser).
        let ours = status.is_server_error()
            || matches!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
            );
        let detail = if is_text && !text.is_empty() && !ours {
            text
        } else {
            default_detail(status, limits, method, uri, &parts.headers)
        };
        let errors = if status == StatusCode::UNPROCESSABLE_ENTITY {
            json_field_error(&detail).into_iter().collect()
        } else {
            Vec::new()
        };
        Problem::for_status(status, detail).with_errors(errors)
    };
    if problem.request_id.is_none() {
        problem.request_id = request_id.to_str().ok().map(str::to_owned);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// What axum's JSON extractor says before a deserialisation error.
const JSON_DATA_ERROR: &str = "Failed to deserialize the JSON body into the target type: ";

/// The offending field of a JSON body of the wrong shape, from the extractor's message
/// (`<path>: <what is wrong> at line L column C`), as a JSON pointer.
fn json_field_error(message: &str) -> Option<FieldError> {
    let rest = message.strip_prefix(JSON_DATA_ERROR)?;
    let rest = rest.rsplit_once(" at line ").map_or(rest, |(what, _)| what);
    // At the top level there is no path, and a missing field is named in the message.
    if let Some(name) = rest
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return Some(FieldError::new(format!("/{name}"), "is required"));
    }
    match rest.split_once(": ") {
        Some((path, what)) if !path.contains(' ') => {
            Some(FieldError::new(json_pointer(path), what))
        }
        _ => Some(FieldError::new("", rest)),
    }
}

/// `labels.region` or `items[0].name` as a JSON pointer (`/labels/region`, `/items/0/name`).
fn json_pointer(path: &str) -> String {
    path.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .fold(String::new(), |pointer, segment| pointer + "/" + segment)
}

fn default_detail(
    status: StatusCode,
    limits: Limits,
    method: &Method,
    uri: &Uri,
    headers: &axum::http::HeaderMap,
) -> String {
    match status {
        StatusCode::NOT_FOUND => format!("There is nothing at {}.", uri.path()),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!(
                "{method} is not allowed on {}; allowed: {allow}.",
                uri.path()
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "The request body is larger than the limit of {} bytes.",
            limits.body_limit
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => format!(
            "The request was not handled within the limit of {} s.",
            limits.timeout.as_secs()
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "The request's Content-Type is not supported here.".into()
        }
        s if s.is_server_error() => INTERNAL_ERROR_DETAIL.into(),
        s => s.canonical_reason().unwrap_or("Error").to_owned(),
    }
}

/// The response for a panic inside a handler: logged with its message, answered with a
/// generic 500 (the envelope adds the request id).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!(panic = panic_message(panic.as_ref()), "handler panicked");
    Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_DETAIL).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(message: &str) -> Option<(String, String)> {
        json_field_error(message).map(|e| (e.field, e.message))
    }

    #[test]
    fn json_shape_errors_name_the_field() {
        let pair = |f: &str, m: &str| Some((f.to_owned(), m.to_owned()));
        assert_eq!(
            field("Failed to deserialize the JSON body into the target type: kind: unknown variant `planet`, expected `account` or `cluster` at line 1 column 17"),
            pair("/kind", "unknown variant `planet`, expected `account` or `cluster`")
        );
        assert_eq!(
            field("Failed to deserialize the JSON body into the target type: missing field `name` at line 1 column 19"),
            pair("/name", "is required")
        );
        assert_eq!(
            field("Failed to deserialize the JSON body into the target type: items[2].labels.region: invalid type: integer `3`, expected a string at line 1 column 40"),
            pair("/items/2/labels/region", "invalid type: integer `3`, expected a string")
        );
        assert_eq!(
            field("Failed to deserialize the JSON body into the target type: invalid type: integer `1`, expected struct X at line 1 column 1"),
            pair("", "invalid type: integer `1`, expected struct X")
        );
        assert_eq!(field("Failed to parse the request body as JSON: EOF"), None);
    }
}
