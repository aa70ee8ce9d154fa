//! How the directory answers conditional GETs: every document carries a strong ETag (see
//! [`Rendered`]), and a request whose `If-None-Match` names it gets `304 Not Modified` with no
//! body. The HTTP rule is core's ([`flotilla_core::conditional`]); what is the directory's own
//! is how its documents may be cached.

use axum::http::HeaderValue;
use axum::response::Response;
use flotilla_core::conditional::{self, Caching, IfNoneMatch};

use crate::snapshot::Rendered;

/// Authenticated documents: any cache must revalidate (with the ETag) before reuse, and
/// shared caches must not keep them.
pub const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// The request headers a directory document depends on: its form and who asks.
const VARY: HeaderValue = HeaderValue::from_static("Accept, Authorization");

/// `doc` as `content_type`, or 304 when the caller already has it.
pub fn answer(
    if_none_match: &IfNoneMatch,
    doc: &Rendered,
    content_type: &'static str,
    cache_control: HeaderValue,
) -> Response {
    let caching = Caching {
        cache_control,
        vary: VARY,
    };
    conditional::answer(
        if_none_match,
        &doc.etag,
        caching,
        content_type,
        doc.body.clone(),
    )
}
