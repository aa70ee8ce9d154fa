//! `GET|POST /oauth/authorize`: the authorization-code grant for the CLI. A logged-in person
//! sees a consent page naming the client and where it will be sent; allowing issues a
//! one-minute, single-use code bound to the PKCE challenge and the loopback redirect URI
//! (see [`super::authorization_codes`], which stores and redeems it).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use flotilla_core::auth::credentials::profile;
use flotilla_core::auth::Caller;
use flotilla_core::{AppContext, Error as CoreError};
use serde::Deserialize;
use url::Url;

use super::{authorization_codes, check_client, check_scope, is_loopback_redirect};
use crate::error::Error;
use crate::login::encode;
use crate::pages::{html, Page, PageError};

/// The authorization request's parameters (query on GET, form on POST).
#[derive(Debug, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// POST only: `allow` or `deny`.
    decision: Option<String>,
}

/// A checked request.
struct Checked {
    client_id: &'static str,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    challenge: String,
}

/// Why a request cannot go on: shown on a page (when the redirect itself is in doubt), or
/// sent back to the client's redirect URI.
enum Refusal {
    Page(PageError),
    Redirect(Box<Response>),
}

fn check(params: &AuthorizeParams) -> Result<Checked, Refusal> {
    let page = |e: Error| Refusal::Page(PageError(e));
    let client_id = check_client(params.client_id.as_deref()).map_err(page)?;
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .filter(|r| is_loopback_redirect(r))
        .ok_or_else(|| {
            page(CoreError::BadRequest(
                "redirect_uri must be a loopback address: http://127.0.0.1:<port>/... or http://[::1]:<port>/...".into(),
            )
            .into())
        })?
        .to_owned();
    let state = params.state.clone().filter(|s| s.len() <= 512);
    let back = |error: &str, description: &str| {
        Refusal::Redirect(Box::new(redirect_with(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
            state.as_deref(),
        )))
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let challenge = params.code_challenge.clone().filter(|c| {
        c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let (Some(challenge), Some("S256")) = (challenge, params.code_challenge_method.as_deref())
    else {
        return Err(back(
            "invalid_request",
            "PKCE is required: code_challenge (43 characters) with code_challenge_method=S256",
        ));
    };
    let scope =
        check_scope(params.scope.as_deref()).map_err(|_| back("invalid_scope", "unknown scope"))?;
    Ok(Checked {
        client_id,
        redirect_uri,
        scope,
        state,
        challenge,
    })
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut url = match Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

/// `GET /oauth/authorize`: the consent page (after log-in).
pub async fn consent(
    State(ctx): State<AppContext>,
    caller: Option<Caller>,
    uri: axum::http::Uri,
    Query(params): Query<AuthorizeParams>,
) -> Result<Response, PageError> {
    let checked = match check(&params) {
        Ok(c) => c,
        Err(Refusal::Page(e)) => return Err(e),
        Err(Refusal::Redirect(r)) => return Ok(*r),
    };
    let Some(person) = caller.as_ref().and_then(Caller::browser_person) else {
        let back = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/oauth/authorize");
        return Ok(Redirect::to(&format!("/login?return_to={}", encode(back))).into_response());
    };
    let who = profile(&ctx.auth, &ctx.db, person).await?;
    let name = who
        .email
        .clone()
        .or_else(|| who.name.clone())
        .unwrap_or_else(|| "you".into());
    let target = Url::parse(&checked.redirect_uri).ok();
    let port = target
        .as_ref()
        .and_then(Url::port)
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut page = Page::new("Allow the Flotilla CLI?");
    page.para(&format!(
        "The Flotilla command-line tool on this computer (port {port}) asks to use Flotilla's API as {name}, \
         with your roles in your accounts."
    ))
    .para_class("muted", "Allow it only if you just ran `flotilla configure` yourself.")
    .form(
        "/oauth/authorize",
        &[
            ("response_type", "code"),
            ("client_id", checked.client_id),
            ("redirect_uri", &checked.redirect_uri),
            ("scope", &checked.scope),
            ("state", checked.state.as_deref().unwrap_or("")),
            ("code_challenge", &checked.challenge),
            ("code_challenge_method", "S256"),
        ],
        &[],
        &[("decision", "allow", "Allow", true), ("decision", "deny", "Deny", false)],
    );
    Ok(html(StatusCode::OK, page.finish()))
}

/// `POST /oauth/authorize`: the person's decision.
pub async fn decide(
    State(ctx): State<AppContext>,
    caller: Caller,
    Form(params): Form<AuthorizeParams>,
) -> Result<Response, PageError> {
    let person = caller
        .browser_person()
        .ok_or_else(|| CoreError::Forbidden("Consent is given in the browser.".into()))?;
    let mut checked = match check(&params) {
        Ok(c) => c,
        Err(Refusal::Page(e)) => return Err(e),
        Err(Refusal::Redirect(r)) => return Ok(*r),
    };
    checked.state = checked.state.filter(|s| !s.is_empty());
    if params.decision.as_deref() != Some("allow") {
        let denied = [
            ("error", "access_denied"),
            ("error_description", "the person denied the request"),
        ];
        return Ok(redirect_with(
            &checked.redirect_uri,
            &denied,
            checked.state.as_deref(),
        ));
    }
    let code = authorization_codes::create(
        &ctx,
        person,
        checked.client_id,
        &checked.redirect_uri,
        &checked.challenge,
        &checked.scope,
    )
    .await?;
    Ok(redirect_with(
        &checked.redirect_uri,
        &[("code", &code)],
        checked.state.as_deref(),
    ))
}
