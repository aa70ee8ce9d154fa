//! Browser log-in: `GET /login` (a provider's button, or straight to the only one),
//! `GET /auth/callback` (back from the provider), `POST /login/dev` (development mode's
//! "continue as developer"), `POST /logout`. A started log-in waits for its callback in
//! Postgres (`attempts`), so any replica can finish it.

pub(crate) mod attempts;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use flotilla_core::audit::Origin;
use flotilla_core::auth::credentials::LOGIN_COOKIE;
use flotilla_core::auth::{csrf, opaque, Caller, Principal};
use flotilla_core::{AppContext, Error as CoreError};
use serde::Deserialize;

use crate::pages::{html, Page, PageError};
use crate::rate_limit::{ClientIp, LOGIN};
use crate::upstream::Identity;
use crate::{members, persons, sessions, Accounts};

/// How long a started log-in may take.
const LOGIN_TTL_SECS: f64 = 600.0;

/// The identity of development mode's sign-in.
const DEVELOPER_ISSUER: &str = "urn:flotilla:development";

/// `GET /login` parameters.
#[derive(Deserialize)]
pub struct LoginQuery {
    provider: Option<String>,
    return_to: Option<String>,
}

/// `GET /login`.
pub async fn login(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    accounts.limit(LOGIN, ip)?;
    let return_to = safe_return_to(query.return_to.as_deref());
    let providers = &accounts.upstream.providers;
    let chosen = match (&query.provider, providers.as_slice()) {
        (Some(id), _) => Some(accounts.upstream.provider(id)?),
        (None, [only]) => Some(only),
        _ => None,
    };
    if let Some(provider) = chosen {
        return start(&ctx, &accounts, provider, return_to).await;
    }
    let mut page = Page::new("Log in to Flotilla");
    if providers.is_empty() && ctx.config.dev {
        page.para_class(
            "notice",
            "Development mode: no OpenID provider is configured. Continue as the local \
             developer to try Flotilla; never run a real deployment like this.",
        )
        .form(
            "/login/dev",
            &[("return_to", return_to)],
            &[],
            &[("continue", "developer", "Continue as developer", true)],
        );
    } else if providers.is_empty() {
        return Err(PageError::from(CoreError::Unavailable(
            "No log-in provider is configured: set FLOTILLA_OIDC_ISSUER and \
             FLOTILLA_OIDC_CLIENT_ID, or FLOTILLA_OIDC_PROVIDERS_FILE."
                .into(),
        )));
    } else {
        page.para("Choose how to log in:");
        for p in providers {
            let href = format!("/login?provider={}&return_to={}", p.id, encode(return_to));
            page.button_link(&href, &format!("Log in with {}", p.name));
        }
    }
    Ok(html(StatusCode::OK, page.finish()))
}

async fn start(
    ctx: &AppContext,
    accounts: &Accounts,
    provider: &crate::upstream::ProviderConfig,
    return_to: &str,
) -> Result<Response, PageError> {
    let state = opaque::new_secret();
    let started = accounts
        .upstream
        .start(provider, &callback_url(ctx), &state)
        .await?;
    attempts::insert(
        &mut *ctx.db.acquire().await?,
        &opaque::hash(&state),
        &provider.id,
        &started.pkce_verifier,
        &started.nonce,
        return_to,
        LOGIN_TTL_SECS,
    )
    .await?;
    let mut response = Redirect::to(&started.url).into_response();
    // Binds the log-in to this browser: the callback must come back with the same state.
    response.headers_mut().insert(
        header::SET_COOKIE,
        LOGIN_COOKIE.set(ctx.config.dev, &state, LOGIN_TTL_SECS as u64),
    );
    Ok(response)
}

/// `GET /auth/callback` parameters.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`.
pub async fn callback(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    ClientIp(ip): ClientIp,
    origin: Origin,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    accounts.limit(LOGIN, ip)?;
    let bad = |detail: &str| PageError::from(CoreError::BadRequest(detail.into()));
    let state = query
        .state
        .as_deref()
        .filter(|s| s.len() <= 128)
        .ok_or_else(|| bad("The provider sent no state back; start the log-in again."))?;
    let attempt = attempts::take(&mut *ctx.db.acquire().await?, &opaque::hash(state))
        .await?
        .ok_or_else(|| {
            bad("This log-in has expired or was already completed (a link used twice?); start again.")
        })?;
    let bound = LOGIN_COOKIE.read(&headers, ctx.config.dev);
    if !bound.is_some_and(|c| opaque::constant_time_eq(c.as_bytes(), state.as_bytes())) {
        return Err(bad(
            "This log-in was started in another browser; start again here.",
        ));
    }
    if let Some(error) = &query.error {
        let said = query.error_description.as_deref().unwrap_or(error);
        return Err(PageError::from(CoreError::Unauthorized(format!(
            "The provider did not log you in: {}",
            said.chars().take(200).collect::<String>()
        ))));
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| bad("The provider sent no authorization code; start again."))?;
    let provider = accounts.upstream.provider(&attempt.provider)?;
    let identity = accounts
        .upstream
        .finish(
            provider,
            &callback_url(&ctx),
            code,
            &attempt.pkce_verifier,
            &attempt.nonce,
        )
        .await?;
    logged_in(&ctx, &identity, &origin, &attempt.return_to).await
}

/// `POST /login/dev` form.
#[derive(Deserialize)]
pub struct DevLogin {
    return_to: Option<String>,
}

/// `POST /login/dev`: development mode's sign-in, only when no provider is configured.
pub async fn developer(
    State(ctx): State<AppContext>,
    Extension(accounts): Extension<Arc<Accounts>>,
    origin: Origin,
    parts: Parts,
    axum::Form(form): axum::Form<DevLogin>,
) -> Result<Response, PageError> {
    if !ctx.config.dev || !accounts.upstream.providers.is_empty() {
        return Err(PageError::from(CoreError::NotFound(
            "The developer sign-in exists only in development mode without a provider.".into(),
        )));
    }
    csrf::check(&parts, &ctx.config.public_url, ctx.config.dev)?;
    let identity = Identity {
        issuer: DEVELOPER_ISSUER.into(),
        subject: "developer".into(),
        email: Some("developer@localhost".into()),
        email_verified: true,
        name: Some("Developer".into()),
    };
    logged_in(
        &ctx,
        &identity,
        &origin,
        safe_return_to(form.return_to.as_deref()),
    )
    .await
}

async fn logged_in(
    ctx: &AppContext,
    identity: &Identity,
    origin: &Origin,
    return_to: &str,
) -> Result<Response, PageError> {
    let person = persons::log_in(ctx, identity, origin).await?;
    tracing::info!(person = %person, issuer = %identity.issuer, "logged in");
    let session = sessions::start(ctx, person).await?;
    let has_account = members::store::has_any(&mut *ctx.db.acquire().await?, person).await?;
    let to = if has_account { return_to } else { "/signup" };
    let mut response = Redirect::to(to).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session);
    headers.append(header::SET_COOKIE, LOGIN_COOKIE.set(ctx.config.dev, "", 0));
    Ok(response)
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(
    State(ctx): State<AppContext>,
    caller: Option<Caller>,
) -> Result<Response, PageError> {
    if let Some(Caller {
        principal: Principal::Person {
            session: Some(session),
            ..
        },
        ..
    }) = caller
    {
        sessions::end(&ctx, session).await?;
    }
    let mut page = Page::new("Logged out");
    page.para("You are logged out of Flotilla.")
        .link("/login", "Log in again");
    let mut response = html(StatusCode::OK, page.finish());
    response
        .headers_mut()
        .insert(header::SET_COOKIE, sessions::clear(&ctx));
    Ok(response)
}

/// Where the provider sends the browser back.
pub fn callback_url(ctx: &AppContext) -> String {
    format!("{}/auth/callback", ctx.config.issuer())
}

/// A local path to return to after log-in; anything else (another site, `//host`) becomes `/`.
pub fn safe_return_to(value: Option<&str>) -> &str {
    match value {
        // Browsers drop tabs and newlines while parsing, so `/\t/evil` would become `//evil`.
        Some(v)
            if v.starts_with('/')
                && !v.starts_with("//")
                && !v.contains('\\')
                && !v.chars().any(|c| c.is_control() || c.is_whitespace())
                && v.len() <= 2048 =>
        {
            v
        }
        _ => "/",
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_return_to(Some("/device?user_code=BCDF-GHJK")),
            "/device?user_code=BCDF-GHJK"
        );
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/\t/evil.example",
            "/\\evil",
            "/a\nb",
            "/a\0b",
            "relative",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
