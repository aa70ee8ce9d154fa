//! Request URIs that cannot name anything, refused at the edge with a 400 before any route,
//! extractor or statement sees them: a path whose percent-encoding decodes to bytes that are
//! not UTF-8 (no name is), or to a NUL, and a query holding a NUL (Postgres text cannot hold
//! one). Without this, each reached a handler's database call and came back as a 500.

use axum::http::Uri;
use percent_encoding::percent_decode_str;

/// Why `uri` is refused, if it is.
pub fn refusal(uri: &Uri) -> Option<&'static str> {
    // Without an escape there is nothing to decode: a parsed URI holds no NUL and no byte
    // that is not UTF-8 (the http crate refuses them), so most requests stop here.
    let escaped = |part: &str| part.contains('%');
    if !escaped(uri.path()) && !uri.query().is_some_and(escaped) {
        return None;
    }
    // A `%` that starts no escape is kept as it is, as the router does.
    let path: Vec<u8> = percent_decode_str(uri.path()).collect();
    if path.contains(&0) {
        return Some("The request path holds a NUL character (%00), which no name can hold.");
    }
    if std::str::from_utf8(&path).is_err() {
        return Some(
            "The request path is not UTF-8 once percent-decoded: every name in Flotilla's \
             paths is UTF-8 text.",
        );
    }
    // Only `%00` decodes to a NUL (a `+` is a space in a query, and no concern here).
    if uri
        .query()
        .is_some_and(|q| percent_decode_str(q).any(|byte| byte == 0))
    {
        return Some("The query string holds a NUL character (%00), which no parameter can hold.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(uri: &str) -> bool {
        refusal(&uri.parse().expect("a URI")).is_some()
    }

    #[test]
    fn only_paths_and_queries_that_cannot_name_anything_are_refused() {
        assert!(refused("/api/v1/accounts/%FF"));
        assert!(refused("/api/v1/accounts/acme/clusters/eu-1%00"));
        assert!(refused("/spiffe/%00/%00/bundle"));
        assert!(refused("/api/v1/accounts/acme/dns/endpoints?host=%00"));
        assert!(refused(
            "/api/v1/accounts/acme/dns/endpoints?limit=5&host=a%00b"
        ));
        assert!(!refused("/api/v1/accounts/acme/clusters/%C3%A9t%C3%A9"));
        assert!(!refused("/api/v1/accounts/acme?x=%FF&y=a+b"));
        assert!(!refused("/api/v1/accounts/100%25"));
        assert!(!refused("/api/v1/accounts/50%"));
        assert!(!refused("/api/v1/accounts/%0"));
    }

    #[test]
    fn unescaped_uris_hold_no_byte_to_decode() {
        // What the fast path relies on (non-ASCII UTF-8 is let through, and is a name's).
        assert!("/a\0b".parse::<Uri>().is_err());
        assert!(Uri::from_maybe_shared(axum::body::Bytes::from_static(b"/caf\xff")).is_err());
        assert!(Uri::from_maybe_shared(axum::body::Bytes::from_static(b"/q?x=\0")).is_err());
    }
}
