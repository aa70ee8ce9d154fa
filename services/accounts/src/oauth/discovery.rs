//! Flotilla's issuer metadata: `/.well-known/openid-configuration` (and the same document at
//! RFC 8414's `/.well-known/oauth-authorization-server`) and the published keys at
//! `/.well-known/jwks.json`.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use flotilla_core::AppContext;
use serde_json::{json, Value};

use crate::error::Result;
use crate::keys;

/// The issuer's metadata.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "Issuer metadata (OpenID Connect Discovery / RFC 8414)", body = Object)))]
pub async fn openid_configuration(State(ctx): State<AppContext>) -> Response {
    cacheable(Json(metadata(&ctx)).into_response(), "public, max-age=3600")
}

/// The same metadata, where RFC 8414 clients look.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "Authorization server metadata (RFC 8414)", body = Object)))]
pub async fn authorization_server(State(ctx): State<AppContext>) -> Response {
    cacheable(Json(metadata(&ctx)).into_response(), "public, max-age=3600")
}

fn metadata(ctx: &AppContext) -> Value {
    let issuer = ctx.config.issuer();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "device_authorization_endpoint": format!("{issuer}/oauth/device_authorization"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", super::token::DEVICE_GRANT, super::exchange::EXCHANGE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["api", "openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "access_token_signing_alg_values_supported": ["ES256"],
    })
}

/// The published token-verification keys (JWK Set).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "The JWK Set of Flotilla's token-signing keys", body = Object)))]
pub async fn jwks(State(ctx): State<AppContext>) -> Result<Response> {
    // Short caching: a new key is used as soon as it is created.
    Ok(cacheable(
        Json(keys::jwks(&ctx).await?).into_response(),
        "public, max-age=60",
    ))
}

fn cacheable(mut response: Response, policy: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
