//! The problem+json response that only cluster endpoints document, in the same words on more
//! than one of them (the shared ones: `flotilla_core::http::problem_responses`).

use flotilla_core::problem::Problem;
use utoipa::IntoResponses;

/// 401 for an agent's endpoint whose refusal detail tells the agent what to fix.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No assertion, or a refused one (the detail says why)",
    content_type = "application/problem+json"
)]
pub struct NoAssertionDetailSaysWhy(pub Problem);
