//! `POST /oauth/token`: the authorization-code (with PKCE), refresh-token and device-code
//! grants, and token exchange for a cluster's audience. Errors are RFC 6749's JSON, never problem+json, since OAuth clients expect them.
//! Each grant's rules live with what it redeems ([`super::authorization_codes`],
//! [`super::grants`], [`super::device`], [`super::exchange`]); this is the endpoint only.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use flotilla_core::AppContext;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::exchange::{self, ExchangeResponse, EXCHANGE_GRANT};
use super::grants::{self, TokenResponse};
use super::{authorization_codes, check_client, device};
use crate::error::{oauth, OAuthError, Result};
use crate::rate_limit::{ClientIp, TOKEN};
use crate::Accounts;

/// The device grant's type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The grants the token endpoint knows (read as text, so that another one is answered with
/// OAuth's `unsupported_grant_type`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum GrantType {
    /// The authorization code grant (with PKCE).
    #[schema(rename = "authorization_code")]
    AuthorizationCode,
    /// A refresh.
    #[schema(rename = "refresh_token")]
    RefreshToken,
    /// The device authorization grant (RFC 8628).
    #[schema(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// Token exchange (RFC 8693), for a cluster token.
    #[schema(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

/// A token request (form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token`, `urn:ietf:params:oauth:grant-type:device_code`
    /// or `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[schema(value_type = GrantType)]
    pub grant_type: Option<String>,
    /// The client: `flotilla-cli`.
    #[schema(value_type = crate::oauth::ClientId)]
    pub client_id: Option<String>,
    /// For `authorization_code`: the code.
    pub code: Option<String>,
    /// For `authorization_code`: the same redirect URI as in the authorization request.
    pub redirect_uri: Option<String>,
    /// For `authorization_code`: the PKCE verifier.
    pub code_verifier: Option<String>,
    /// For `refresh_token`: the refresh token.
    pub refresh_token: Option<String>,
    /// For the device grant: the device code.
    pub device_code: Option<String>,
    /// For token exchange: the person's access token.
    pub subject_token: Option<String>,
    /// For token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    pub subject_token_type: Option<String>,
    /// For token exchange: the cluster's audience, `<issuer>/clusters/<account>/<cluster>`.
    pub audience: Option<String>,
    /// For token exchange: optional, `urn:ietf:params:oauth:token-type:jwt`.
    pub requested_token_type: Option<String>,
}

/// Exchanges a grant for an access token and a refresh token.
#[utoipa::path(post, path = "/oauth/token", operation_id = "oauth_token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens; for token exchange, a cluster token", body = TokenAnswer),
        (status = 400, description = "An OAuth error: `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `authorization_pending`, `slow_down`, `expired_token`, `access_denied`, `invalid_target`", body = OAuthError),
        (status = 401, description = "`invalid_client`", body = OAuthError),
        (status = 429, description = "Rate limited (`temporarily_unavailable`)", body = OAuthError),
    ))]
pub async fn token(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response> {
    super::limit(&accounts, TOKEN, ip)?;
    let request = super::form(form)?;
    let client_id = check_client(request.client_id.as_deref())?;
    let tokens = match request.grant_type.as_deref() {
        Some(EXCHANGE_GRANT) => {
            let issued = exchange::exchange(&ctx, &accounts, client_id, &request).await?;
            return Ok(no_store(Json(TokenAnswer::Exchanged(issued))));
        }
        Some("authorization_code") => {
            authorization_codes::redeem(&ctx, &accounts, client_id, &request).await?
        }
        Some("refresh_token") => {
            let presented = required(&request.refresh_token, "refresh_token")?;
            grants::refresh(&ctx, &accounts, client_id, presented).await?
        }
        Some(DEVICE_GRANT) => {
            let code = required(&request.device_code, "device_code")?;
            device::redeem(&ctx, &accounts, client_id, code).await?
        }
        Some(_) => return Err(oauth("unsupported_grant_type", "Supported: authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange.")),
        None => return Err(oauth("invalid_request", "grant_type is required.")),
    };
    Ok(no_store(Json(TokenAnswer::Tokens(tokens))))
}

/// What `POST /oauth/token` answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TokenAnswer {
    /// An access token and a refresh token.
    Tokens(TokenResponse),
    /// A cluster token, from a token exchange.
    Exchanged(ExchangeResponse),
}

/// Tokens are never cached (RFC 6749 §5.1).
fn no_store(answer: Json<TokenAnswer>) -> Response {
    let mut response = answer.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A required form field.
pub fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    value
        .as_deref()
        .filter(|v| !v.is_empty() && v.len() <= 4096)
        .ok_or_else(|| oauth("invalid_request", format!("{name} is required.")))
}
