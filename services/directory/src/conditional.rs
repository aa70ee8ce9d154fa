//! Conditional answers: every directory document carries a strong ETag, and a request whose
//! `If-None-Match` names it gets `304 Not Modified` with no body.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::snapshot::Rendered;

/// Authenticated documents: any cache must revalidate (with the ETag) before reuse, and
/// shared caches must not keep them.
pub const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header).
pub fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

/// `doc` as `content_type`, or 304 when the client already has it.
pub fn answer(
    headers: &HeaderMap,
    doc: &Rendered,
    content_type: &'static str,
    cache_control: HeaderValue,
) -> Response {
    let meta = [
        (ETAG, doc.etag.clone()),
        (CACHE_CONTROL, cache_control),
        (VARY, HeaderValue::from_static("Accept, Authorization")),
    ];
    if matches(headers, &doc.etag) {
        return (StatusCode::NOT_MODIFIED, meta).into_response();
    }
    (
        meta,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        doc.body.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(IF_NONE_MATCH, HeaderValue::from_static(v));
            h
        };
        assert!(matches(&with("\"abc\""), &etag));
        assert!(matches(&with("\"x\", W/\"abc\""), &etag));
        assert!(matches(&with("*"), &etag));
        assert!(!matches(&with("\"abd\""), &etag));
        assert!(!matches(&with("abc"), &etag));
        assert!(!matches(&HeaderMap::new(), &etag));
    }
}
