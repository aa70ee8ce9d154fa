//! The device grant's endpoints and pages: `POST /oauth/device_authorization` (in the API
//! document), and the browser's `GET|POST /device` where a person approves or denies a code.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use flotilla_core::auth::Caller;
use flotilla_core::{AppContext, Error as CoreError};
use serde::Deserialize;

use super::{new_authorization, normalize, store, DeviceAuthorization, DeviceRequest};
use crate::error::{OAuthError, Result};
use crate::login::encode;
use crate::oauth::{check_client, check_scope};
use crate::pages::{html, Page, PageError};
use crate::rate_limit::{ClientIp, DEVICE_START, USER_CODE};
use crate::Accounts;

/// Starts a device authorization.
#[utoipa::path(post, path = "/oauth/device_authorization", operation_id = "start_device_authorization", tag = "oauth",
    request_body(content = DeviceRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Started", body = DeviceAuthorization),
        (status = 400, description = "`invalid_request` or `invalid_scope`", body = OAuthError),
        (status = 401, description = "`invalid_client`", body = OAuthError),
        (status = 429, description = "Rate limited", body = OAuthError),
    ))]
pub async fn start(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    form: Result<Form<DeviceRequest>, FormRejection>,
) -> Result<Response> {
    crate::oauth::limit(&accounts, DEVICE_START, ip)?;
    let request = crate::oauth::form(form)?;
    let client_id = check_client(request.client_id.as_deref())?;
    let scope = check_scope(request.scope.as_deref())?;
    let started = new_authorization(&ctx, client_id, &scope).await?;
    let mut response = Json(started).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /device` parameters.
#[derive(Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

/// `GET /device`: the form where a logged-in person enters (or confirms) the user code.
pub async fn page(caller: Option<Caller>, Query(query): Query<DeviceQuery>) -> Response {
    let code = query
        .user_code
        .as_deref()
        .map(normalize)
        .unwrap_or_default();
    let shown = if code.len() == 8 {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code
    };
    if caller.as_ref().and_then(Caller::browser_person).is_none() {
        let back = if shown.is_empty() {
            "/device".to_owned()
        } else {
            format!("/device?user_code={shown}")
        };
        return Redirect::to(&format!("/login?return_to={}", encode(&back))).into_response();
    }
    let mut page = Page::new("Connect a device");
    page.para("Enter the code your terminal shows. Only approve a code you started yourself.")
        .form(
            "/device",
            &[],
            &[(
                "user_code",
                "Code",
                &shown,
                "Eight letters, such as BCDF-GHJK.",
            )],
            &[
                ("decision", "approve", "Approve", true),
                ("decision", "deny", "Deny", false),
            ],
        );
    html(StatusCode::OK, page.finish())
}

/// `POST /device` form.
#[derive(Deserialize)]
pub struct DeviceDecision {
    user_code: String,
    decision: String,
}

/// `POST /device`: approves or denies the device holding the user code.
pub async fn decide(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Form(form): Form<DeviceDecision>,
) -> Result<Response, PageError> {
    accounts.limit(USER_CODE, ip)?;
    let person = caller
        .browser_person()
        .ok_or_else(|| CoreError::Forbidden("Approve devices from the browser.".into()))?;
    let status = match form.decision.as_str() {
        "approve" => "approved",
        "deny" => "denied",
        _ => return Err(CoreError::BadRequest("decision must be approve or deny.".into()).into()),
    };
    let user_code = normalize(&form.user_code);
    let decided = store::decide(&mut *ctx.db.acquire().await?, &user_code, status, person).await?;
    if !decided {
        return Err(CoreError::BadRequest(
            "That code is not valid, has expired or was already used. Check your terminal and try again.".into(),
        )
        .into());
    }
    let mut page = Page::new(if status == "approved" {
        "Device connected"
    } else {
        "Device denied"
    });
    page.para(if status == "approved" {
        "Done: return to your terminal."
    } else {
        "The device was refused; it gets no access."
    });
    Ok(html(StatusCode::OK, page.finish()))
}
