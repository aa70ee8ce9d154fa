//! CSRF protection for requests authenticated by the session cookie: a state-changing request
//! is accepted only when its `Origin` (or, lacking that, its `Referer`) is Flotilla's own
//! origin. Bearer-token requests need no more: a browser never attaches those on its own.

use axum::http::request::Parts;
use axum::http::{header, Method};
use url::Url;

use crate::error::{Error, Result};

/// Refuses (403) a state-changing request that does not come from `public_url`'s origin. In
/// development mode (loopback only) any loopback origin of the same port counts, so the
/// console works at http://127.0.0.1:8080 as well as at http://localhost:8080.
pub fn check(parts: &Parts, public_url: &Url, dev: bool) -> Result<()> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let header_value = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let claimed = header_value(header::ORIGIN)
        .filter(|o| *o != "null")
        .or_else(|| header_value(header::REFERER))
        .and_then(|v| Url::parse(v).ok());
    match claimed {
        Some(url) if url.origin() == public_url.origin() => Ok(()),
        Some(url)
            if dev
                && is_loopback(&url)
                && url.port_or_known_default() == public_url.port_or_known_default() =>
        {
            Ok(())
        }
        _ => Err(Error::Forbidden(format!(
            "Cross-site request refused: a request made with the session cookie must come \
             from {} (its Origin or Referer header says otherwise or is missing).",
            public_url.origin().ascii_serialization()
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
