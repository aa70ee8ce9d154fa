//! The accounts service's browser pages (log-in, sign-up, consent, device, errors), rendered
//! on the server as plain HTML forms: no script, one stylesheet from this server.

mod render;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use render::Page;

use flotilla_core::http::problems::KeepErrorBody;

use crate::error::Error;

/// The stylesheet's path; its content is fixed per build, so it may be cached for long.
pub const STYLESHEET_PATH: &str = "/assets/accounts-v1.css";

/// The pages' policy: this server's stylesheet only, no scripts, never framed.
const PAGE_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An HTML answer with the page headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // Pages hold per-person content and one-time values.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Same-origin form posts must carry their Origin (the CSRF check); `no-referrer` would
    // make browsers send `Origin: null`.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response.extensions_mut().insert(KeepErrorBody);
    response
}

/// `GET /assets/accounts-v1.css`.
pub async fn stylesheet() -> Response {
    let mut response = render::STYLESHEET.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

/// An error on a browser page: the same status and detail as the API would give, on a page.
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let problem = match &self.0 {
            Error::Core(e) => e.to_problem(),
            Error::OAuth(e) => flotilla_core::Problem::for_status(
                StatusCode::BAD_REQUEST,
                e.error_description.clone(),
            ),
        };
        if let Error::Core(e) = &self.0 {
            e.log_cause();
        }
        let mut page = Page::new(&problem.title);
        page.para(problem.detail.as_deref().unwrap_or(""));
        page.link("/", "Back to Flotilla");
        let mut response = html(problem.status_code(), page.finish());
        if let Error::Core(flotilla_core::Error::RateLimited(secs)) = &self.0 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
        }
        response
    }
}
