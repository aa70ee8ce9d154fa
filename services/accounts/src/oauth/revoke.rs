//! `POST /oauth/revoke` (RFC 7009): revoking a refresh token or an access token ends its
//! whole grant. The answer is 200 whether or not the token was known, as the RFC requires.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Form};
use flotilla_core::AppContext;
use serde::Deserialize;
use utoipa::ToSchema;

use super::grants;
use crate::error::{OAuthError, Result};
use crate::rate_limit::{ClientIp, TOKEN};
use crate::Accounts;

/// A revocation request (form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh or access token.
    #[schema(value_type = String, min_length = 1)]
    pub token: Option<String>,
    /// `refresh_token` or `access_token` (a hint only).
    pub token_type_hint: Option<String>,
    /// The client: `flotilla-cli`.
    #[schema(value_type = crate::oauth::ClientId)]
    pub client_id: Option<String>,
}

/// Revokes a token and every token of its grant.
#[utoipa::path(post, path = "/oauth/revoke", operation_id = "revoke_oauth_token", tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or was not a live token"),
        (status = 400, description = "`invalid_request`: no token or no client_id", body = OAuthError),
        (status = 401, description = "`invalid_client`: not Flotilla's CLI", body = OAuthError),
        (status = 429, description = "Rate limited (`temporarily_unavailable`)", body = OAuthError),
    ))]
pub async fn revoke(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    form: Result<Form<RevokeRequest>, FormRejection>,
) -> Result<StatusCode> {
    super::limit(&accounts, TOKEN, ip)?;
    let request = super::form(form)?;
    // RFC 7009 §2.1: a public client names itself.
    super::check_client(request.client_id.as_deref())?;
    let token = super::token::required(&request.token, "token")?;
    grants::revoke_token(&ctx, token).await?;
    Ok(StatusCode::OK)
}
