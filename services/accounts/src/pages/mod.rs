//! The accounts service's browser pages (log-in, sign-up, consent, device, errors), rendered
//! on the server with `flotilla_web`'s page builder: plain HTML forms in the console's look.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub use flotilla_web::{html, Page};

use crate::error::Error;

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
