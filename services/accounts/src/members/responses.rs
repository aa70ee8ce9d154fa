//! The problem+json responses that only the member endpoints document, each in the same words
//! on more than one of them (the shared ones: `flotilla_core::http::problem_responses`).

use flotilla_core::problem::Problem;
use utoipa::IntoResponses;

/// 403 for an endpoint that needs the owner role in the account.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Only owners manage members",
    content_type = "application/problem+json"
)]
pub struct OnlyOwnersManageMembers(pub Problem);

/// 409 for a change of members that would leave the account without an owner.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "It would leave the account without an owner",
    content_type = "application/problem+json"
)]
pub struct WouldLeaveNoOwner(pub Problem);

/// 422 for a member's log-in email that is not an email address.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Not an email address",
    content_type = "application/problem+json"
)]
pub struct NotAnEmail(pub Problem);
