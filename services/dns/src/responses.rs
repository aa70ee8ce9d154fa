//! The problem+json responses that only DNS endpoints document, each in the same words on more
//! than one of them (the shared ones: `flotilla_core::http::problem_responses`).

use flotilla_core::problem::Problem;
use utoipa::IntoResponses;

/// 401 for an endpoint that only a cluster's agent calls, with its assertion.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No cluster assertion, or one refused",
    content_type = "application/problem+json"
)]
pub struct NoClusterAssertion(pub Problem);

/// 403 for an agent's call about a cluster its assertion does not speak for (in the words of
/// the endpoints that report for a cluster).
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "The assertion speaks for another cluster",
    content_type = "application/problem+json"
)]
pub struct AssertionSpeaksForAnotherCluster(pub Problem);

/// 404 for an account-scoped endpoint that names no further resource.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such account",
    content_type = "application/problem+json"
)]
pub struct NoSuchAccount(pub Problem);
