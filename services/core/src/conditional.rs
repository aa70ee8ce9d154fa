//! Conditional requests on `If-None-Match` (RFC 9110 §13.1.2), read the same way by every
//! endpoint: a GET whose caller already has the current document gets `304 Not Modified`
//! with no body, and a PUT with `If-None-Match: *` only creates. The header is read once, by
//! the [`IfNoneMatch`] extractor, and a conditional GET answers through [`answer`].

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The request's `If-None-Match` values (none when it has no such header).
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(Vec<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get_all(IF_NONE_MATCH)
                .iter()
                .cloned()
                .collect(),
        ))
    }
}

impl IfNoneMatch {
    /// Whether the caller's copy is the document tagged `etag`: any listed tag names it
    /// (weak comparison, as RFC 9110 asks for this header), or `*`.
    pub fn matches(&self, etag: &HeaderValue) -> bool {
        let ours = etag.as_bytes();
        self.0
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
    }

    /// `If-None-Match: *` alone: the request may only create what it names, never replace it.
    pub fn only_create(&self) -> bool {
        self.0.first().is_some_and(|v| v.as_bytes() == b"*")
    }
}

/// How a conditionally served document may be cached. Sent with the 200 and the 304 alike,
/// so that a revalidated copy keeps the same rules (RFC 9110 §15.4.5).
#[derive(Debug, Clone)]
pub struct Caching {
    /// `Cache-Control`.
    pub cache_control: HeaderValue,
    /// `Vary`: the request headers the document depends on.
    pub vary: HeaderValue,
}

/// The answer to a conditional GET of `body`, whose strong validator is `etag`: 304 with no
/// body when `if_none_match` names it, otherwise 200 with `body` as `content_type`.
pub fn answer(
    if_none_match: &IfNoneMatch,
    etag: &HeaderValue,
    caching: Caching,
    content_type: &'static str,
    body: Bytes,
) -> Response {
    let meta = [
        (ETAG, etag.clone()),
        (CACHE_CONTROL, caching.cache_control),
        (VARY, caching.vary),
    ];
    if if_none_match.matches(etag) {
        return (StatusCode::NOT_MODIFIED, meta).into_response();
    }
    (
        meta,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&'static str]) -> IfNoneMatch {
        IfNoneMatch(values.iter().map(|v| HeaderValue::from_static(v)).collect())
    }

    #[test]
    fn if_none_match_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(with(&["\"abc\""]).matches(&etag));
        assert!(with(&["\"x\", W/\"abc\""]).matches(&etag));
        assert!(with(&["\"x\"", "\"abc\""]).matches(&etag));
        assert!(with(&["*"]).matches(&etag));
        assert!(!with(&["\"abd\""]).matches(&etag));
        assert!(!with(&["abc"]).matches(&etag));
        assert!(!IfNoneMatch::default().matches(&etag));
    }

    #[test]
    fn only_a_lone_star_asks_to_only_create() {
        assert!(with(&["*"]).only_create());
        assert!(!with(&["\"abc\""]).only_create());
        assert!(!with(&["*, \"abc\""]).only_create());
        assert!(!IfNoneMatch::default().only_create());
    }

    #[test]
    fn a_current_copy_gets_304_with_the_validators_and_no_body() {
        let etag = HeaderValue::from_static("\"abc\"");
        let caching = Caching {
            cache_control: HeaderValue::from_static("no-cache"),
            vary: HeaderValue::from_static("Accept"),
        };
        let body = Bytes::from_static(b"{}");
        let fresh = answer(
            &with(&["\"abc\""]),
            &etag,
            caching.clone(),
            "application/json",
            body.clone(),
        );
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(fresh.headers()[ETAG], etag);
        assert_eq!(fresh.headers()[VARY], "Accept");
        assert!(fresh.headers().get(CONTENT_TYPE).is_none());
        let stale = answer(
            &with(&["\"old\""]),
            &etag,
            caching,
            "application/json",
            body,
        );
        assert_eq!(stale.status(), StatusCode::OK);
        assert_eq!(stale.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(stale.headers()[CACHE_CONTROL], "no-cache");
    }
}
