//! The problem+json error responses that several endpoints document in the same words, each
//! written once as a type that `#[utoipa::path(responses(...))]` lists by name. Responses
//! only one endpoint gives stay written inline at that endpoint.
//!
//! These types only document: a handler still answers with its error type, mapped to a
//! [`Problem`] in one place. Each wraps a [`Problem`] so that the response's body is a
//! reference to the one `Problem` schema, as the inline form gives. The descriptions are part
//! of the published OpenAPI document and of the clients generated from it, so changing one
//! changes them everywhere it is listed.

use utoipa::IntoResponses;

use crate::problem::Problem;

/// 401 for an endpoint that takes a user's session or API token.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not authenticated",
    content_type = "application/problem+json"
)]
pub struct NotAuthenticated(pub Problem);

/// 401 for an endpoint that takes a user's credential or a cluster assertion.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not authenticated, or an assertion refused",
    content_type = "application/problem+json"
)]
pub struct NotAuthenticatedOrAssertionRefused(pub Problem);

/// 403 for an endpoint that needs the admin role in the account.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Needs the admin role",
    content_type = "application/problem+json"
)]
pub struct NeedsAdmin(pub Problem);

/// 403 for an agent's call about a cluster its assertion does not speak for (in the words of
/// the heartbeat endpoints).
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "An assertion of another cluster",
    content_type = "application/problem+json"
)]
pub struct AssertionOfAnotherCluster(pub Problem);

/// 404 for an account-scoped endpoint: an account the caller may not see answers as if it
/// did not exist, so that names cannot be probed.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such account that the caller can see",
    content_type = "application/problem+json"
)]
pub struct NoSuchVisibleAccount(pub Problem);

/// 404 for an endpoint about one cluster of an account.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such account or cluster",
    content_type = "application/problem+json"
)]
pub struct NoSuchAccountOrCluster(pub Problem);

/// 404 for an endpoint about one token (API or registration) of an account.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such account or token",
    content_type = "application/problem+json"
)]
pub struct NoSuchAccountOrToken(pub Problem);

/// 422 for a listing whose `limit` (see `PageQuery`) is out of range.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "A bad limit",
    content_type = "application/problem+json"
)]
pub struct BadLimit(pub Problem);
