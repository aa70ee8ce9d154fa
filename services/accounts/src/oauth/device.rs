//! The device authorization grant (RFC 8628): `POST /oauth/device_authorization` starts it,
//! the person approves on `GET|POST /device` with the user code, and the device polls the
//! token endpoint (too fast → `slow_down`). User codes are 8 letters from a 20-letter
//! alphabet without vowels (about 34.6 bits), expire after 10 minutes, and their entry is
//! rate-limited, so guessing one in time is hopeless.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use flotilla_core::auth::opaque::{self, random_bytes};
use flotilla_core::auth::Caller;
use flotilla_core::{AppContext, Error as CoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::grants::{self, TokenResponse};
use super::{check_client, check_scope};
use crate::error::{oauth, OAuthError, Result};
use crate::login::encode;
use crate::pages::{html, Page, PageError};
use crate::rate_limit::{ClientIp, DEVICE_START, USER_CODE};
use crate::Accounts;

/// How long a device authorization waits for approval.
const DEVICE_TTL_SECS: u64 = 600;
/// The polling interval asked of devices, in seconds.
const INTERVAL_SECS: i32 = 5;
/// Letters of user codes: no vowels (no words), nothing easily confused.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A device authorization request (form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeviceRequest {
    /// The client: `flotilla-cli`.
    #[schema(value_type = crate::oauth::ClientId)]
    pub client_id: Option<String>,
    /// Requested scopes, separated by spaces (default `api`).
    #[schema(pattern = "^( *(api|openid|profile|email|offline_access))* *$")]
    pub scope: Option<String>,
}

/// A started device authorization (RFC 8628 §3.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceAuthorization {
    /// The device's secret, for polling the token endpoint.
    pub device_code: String,
    /// The code the person types, e.g. `BCDF-GHJK`.
    pub user_code: String,
    /// Where the person goes: `<public-url>/device`.
    pub verification_uri: String,
    /// The same with the code filled in.
    pub verification_uri_complete: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: i32,
}

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
    super::limit(&accounts, DEVICE_START, ip)?;
    let request = super::form(form)?;
    let client_id = check_client(request.client_id.as_deref())?;
    let scope = check_scope(request.scope.as_deref())?;
    let device_code = opaque::new_secret();
    sqlx::query("DELETE FROM device_codes WHERE expires_at < now() - interval '1 day'")
        .execute(&ctx.db)
        .await?;
    let user_code = loop {
        let candidate = new_user_code();
        let inserted = sqlx::query(
            "INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, expires_at, interval_secs) \
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6) ON CONFLICT (user_code) DO NOTHING",
        )
        .bind(opaque::hash(&device_code))
        .bind(&candidate)
        .bind(client_id)
        .bind(&scope)
        .bind(DEVICE_TTL_SECS as f64)
        .bind(INTERVAL_SECS)
        .execute(&ctx.db)
        .await?
        .rows_affected();
        if inserted == 1 {
            break candidate;
        }
    };
    let shown = format!("{}-{}", &user_code[..4], &user_code[4..]);
    let verification_uri = format!("{}/device", ctx.config.issuer());
    let mut response = Json(DeviceAuthorization {
        device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: DEVICE_TTL_SECS,
        interval: INTERVAL_SECS,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn new_user_code() -> String {
    // 20 divides 240, so `b % 20` over bytes below 240 is uniform.
    let mut code = String::with_capacity(8);
    while code.len() < 8 {
        for b in random_bytes::<16>() {
            if b < 240 && code.len() < 8 {
                code.push(ALPHABET[usize::from(b % 20)] as char);
            }
        }
    }
    code
}

/// A user code as typed: case and dashes or spaces do not matter.
fn normalize(user_code: &str) -> String {
    user_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect()
}

/// The device's poll: tokens once approved; otherwise the RFC 8628 error that says why not.
pub async fn redeem(
    ctx: &AppContext,
    accounts: &Accounts,
    client_id: &str,
    device_code: &str,
) -> Result<TokenResponse> {
    // Loaded before the transaction, which must not wait for a second connection.
    let key = accounts.signer.key(ctx).await?;
    let mut tx = ctx.db.begin().await?;
    type Row = (String, String, String, bool, bool, Option<Uuid>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT client_id, scope, status, expires_at > now(), \
                last_polled_at IS NOT NULL AND last_polled_at > now() - make_interval(secs => interval_secs), \
                person_id \
         FROM device_codes WHERE device_code_hash = $1 FOR UPDATE",
    )
    .bind(opaque::hash(device_code))
    .fetch_optional(&mut *tx)
    .await?;
    let (owner, scope, status, live, too_soon, person) =
        row.ok_or_else(|| oauth("invalid_grant", "The device code is invalid."))?;
    if owner != client_id {
        return Err(oauth(
            "invalid_grant",
            "The device code was issued to another client.",
        ));
    }
    if !live {
        return Err(oauth(
            "expired_token",
            "The device code has expired; start again.",
        ));
    }
    if too_soon {
        sqlx::query(
            "UPDATE device_codes SET interval_secs = interval_secs + 5, last_polled_at = now() \
             WHERE device_code_hash = $1",
        )
        .bind(opaque::hash(device_code))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Err(oauth(
            "slow_down",
            "Polling too fast: wait 5 s more between polls.",
        ));
    }
    sqlx::query("UPDATE device_codes SET last_polled_at = now() WHERE device_code_hash = $1")
        .bind(opaque::hash(device_code))
        .execute(&mut *tx)
        .await?;
    let result = match (status.as_str(), person) {
        ("approved", Some(person)) => {
            sqlx::query("UPDATE device_codes SET status = 'used' WHERE device_code_hash = $1")
                .bind(opaque::hash(device_code))
                .execute(&mut *tx)
                .await?;
            let (_, tokens) =
                grants::start_grant(ctx, &key, &mut tx, person, client_id, &scope).await?;
            Ok(tokens)
        }
        ("pending", _) => Err(oauth(
            "authorization_pending",
            "Waiting for the person to approve at /device.",
        )),
        ("denied", _) => Err(oauth("access_denied", "The person denied this device.")),
        _ => Err(oauth("invalid_grant", "The device code was already used.")),
    };
    tx.commit().await?;
    result
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
    let changed = sqlx::query(
        "UPDATE device_codes SET status = $2, person_id = $3 \
         WHERE user_code = $1 AND status = 'pending' AND expires_at > now()",
    )
    .bind(normalize(&form.user_code))
    .bind(status)
    .bind(person)
    .execute(&ctx.db)
    .await?
    .rows_affected();
    if changed == 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_alphabet_and_normalise() {
        let code = new_user_code();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(normalize("bcdf-ghjk"), "BCDFGHJK");
        assert_eq!(normalize(" BCDF GHJK "), "BCDFGHJK");
    }
}
