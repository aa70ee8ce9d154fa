//! Turning what a request carries (a session cookie, an access token or an API token) into
//! the principal it speaks for, through the cache when this replica is listening.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use sqlx::PgPool;
use uuid::Uuid;

mod store;

use super::access_token::TokenError;
use super::bearer::BearerKind;
use super::{opaque, AuthState, Role};
use crate::error::{Error, Result};

/// Idle time after which a browser session ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Age after which a browser session ends however active it is.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Prefix of API tokens, so they are recognisable (and findable by secret scanners).
pub const API_TOKEN_PREFIX: &str = "flt_";
/// Prefix of registration tokens (see the clusters service).
pub const REGISTRATION_TOKEN_PREFIX: &str = "flreg_";

/// One of Flotilla's cookies: HttpOnly, SameSite=Lax, for the whole site, and `__Host-` with
/// `Secure` outside development mode. Browsers only accept a `__Host-` cookie marked
/// `Secure`, so development mode (plain http) uses the name without the prefix.
#[derive(Debug, Clone, Copy)]
pub struct SiteCookie {
    host: &'static str,
    dev: &'static str,
}

/// The browser session.
pub const SESSION_COOKIE: SiteCookie = SiteCookie {
    host: "__Host-flotilla_session",
    dev: "flotilla_session",
};
/// A log-in in progress at an upstream provider (binds its callback to this browser).
pub const LOGIN_COOKIE: SiteCookie = SiteCookie {
    host: "__Host-flotilla_login",
    dev: "flotilla_login",
};

impl SiteCookie {
    /// The cookie's name in this mode.
    pub fn name(self, dev: bool) -> &'static str {
        if dev {
            self.dev
        } else {
            self.host
        }
    }

    /// Its value in the request, if any.
    pub fn read(self, headers: &HeaderMap, dev: bool) -> Option<&str> {
        cookie(headers, self.name(dev))
    }

    /// The `Set-Cookie` value giving it `value` for `max_age` seconds (0: removing it).
    pub fn set(self, dev: bool, value: &str, max_age: u64) -> HeaderValue {
        let secure = if dev { "" } else { "; Secure" };
        let text = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name(dev)
        );
        // Values are base64url secrets: the text is always a valid header value.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Who a request speaks for.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, through a browser session or an access token.
    Person {
        /// The person's id.
        id: Uuid,
        /// The browser session, when it came that way.
        session: Option<Uuid>,
        /// The grant (refresh-token family), when it came with an access token.
        grant: Option<Uuid>,
    },
    /// An account's API token.
    ApiToken {
        /// The token's id.
        id: Uuid,
        /// The account it belongs to.
        account_id: Uuid,
        /// That account's name.
        account: String,
        /// Its role there.
        role: Role,
        /// What it is for (its name).
        name: String,
    },
}

/// How the credential reached us; cookies need CSRF protection, bearer tokens do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// The session cookie.
    Cookie,
    /// `Authorization: Bearer`.
    Bearer,
}

/// Finds and verifies the request's credential; `None` when it carries none.
pub async fn authenticate(
    state: &AuthState,
    db: &PgPool,
    issuer: &str,
    dev: bool,
    parts: &Parts,
) -> Result<Option<(Principal, Carrier)>> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty() && t.len() <= 4096)
            .ok_or_else(|| {
                Error::Unauthorized("The Authorization header must be `Bearer <token>`.".into())
            })?;
        let principal = cached(state, token, || verify_bearer(state, db, issuer, token)).await?;
        return Ok(Some((principal, Carrier::Bearer)));
    }
    match SESSION_COOKIE.read(&parts.headers, dev) {
        Some(secret) if secret.len() <= 128 => {
            let principal = cached(state, secret, || verify_session(db, secret)).await?;
            Ok(Some((principal, Carrier::Cookie)))
        }
        Some(_) => Err(expired_session()),
        None => Ok(None),
    }
}

/// Verifies a bearer token given on its own (not in a header), such as the subject token of a
/// token exchange: an access token or an API token, through the same cache as requests.
pub async fn verify_token(
    state: &AuthState,
    db: &PgPool,
    issuer: &str,
    token: &str,
) -> Result<Principal> {
    cached(state, token, || verify_bearer(state, db, issuer, token)).await
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

async fn cached<F, Fut>(state: &AuthState, secret: &str, verify: F) -> Result<Principal>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(Principal, Instant)>>,
{
    state
        .remember(&state.credentials, opaque::hash_array(secret), verify)
        .await
}

fn invalid_token() -> Error {
    Error::Unauthorized("The bearer token is invalid, expired or revoked.".into())
}

fn expired_session() -> Error {
    Error::Unauthorized("Your session has ended; log in again.".into())
}

/// `Instant` corresponding to a Unix time (for cache expiry).
fn instant_at(unix_secs: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Instant::now() + Duration::from_secs(unix_secs.saturating_sub(now))
}

async fn verify_bearer(
    state: &AuthState,
    db: &PgPool,
    issuer: &str,
    token: &str,
) -> Result<(Principal, Instant)> {
    match BearerKind::of(token) {
        BearerKind::ApiToken => return verify_api_token(db, token).await,
        BearerKind::RegistrationToken => {
            return Err(Error::Unauthorized(
                "A registration token (flreg_...) only registers clusters: \
                 PUT /api/v1/accounts/{account}/clusters/{cluster}."
                    .into(),
            ))
        }
        // A cluster assertion is not Flotilla's: the signature check below refuses it.
        BearerKind::ClusterAssertion | BearerKind::AccessToken => {}
    }
    let claims = match state.keys.verify(db, issuer, token).await {
        Ok(claims) => claims,
        Err(TokenError::Invalid) => return Err(invalid_token()),
        Err(TokenError::Database(e)) => return Err(e.into()),
    };
    let mut conn = db.acquire().await?;
    if !store::grant_is_live(&mut conn, claims.sid, claims.sub).await? {
        return Err(invalid_token());
    }
    let principal = Principal::Person {
        id: claims.sub,
        session: None,
        grant: Some(claims.sid),
    };
    Ok((principal, instant_at(claims.exp)))
}

async fn verify_api_token(db: &PgPool, token: &str) -> Result<(Principal, Instant)> {
    let lookup = opaque::token_lookup(token, API_TOKEN_PREFIX).ok_or_else(invalid_token)?;
    let mut conn = db.acquire().await?;
    let row = store::api_token(&mut conn, lookup)
        .await?
        .ok_or_else(invalid_token)?;
    if !opaque::constant_time_eq(&row.secret_hash, &opaque::hash(token)) {
        return Err(invalid_token());
    }
    let role = Role::parse(&row.role).ok_or_else(invalid_token)?;
    if row.stale {
        // Last-used is for people auditing their tokens; minute precision is plenty.
        store::touch_api_token(&mut conn, row.id).await?;
    }
    let principal = Principal::ApiToken {
        id: row.id,
        account_id: row.account_id,
        account: row.account,
        role,
        name: row.name,
    };
    Ok((principal, expires_in(row.left)))
}

/// When something that expires in `seconds` must leave the cache.
fn expires_in(seconds: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0))
}

async fn verify_session(db: &PgPool, secret: &str) -> Result<(Principal, Instant)> {
    let mut conn = db.acquire().await?;
    let row = store::session(&mut conn, &opaque::hash(secret), SESSION_IDLE.as_secs_f64())
        .await?
        .ok_or_else(expired_session)?;
    if row.stale {
        store::touch_session(&mut conn, row.id).await?;
    }
    let principal = Principal::Person {
        id: row.person_id,
        session: Some(row.id),
        grant: None,
    };
    Ok((principal, expires_in(row.left)))
}

/// A person's display details, accounts and roles, through the cache.
pub async fn profile(state: &AuthState, db: &PgPool, person: Uuid) -> Result<Arc<Profile>> {
    state
        .remember(&state.profiles, person, || async {
            let found = Arc::new(load_profile(db, person).await?);
            Ok((found, Instant::now() + super::cache::MAX_AGE))
        })
        .await
}

async fn load_profile(db: &PgPool, person: Uuid) -> Result<Profile> {
    let mut conn = db.acquire().await?;
    let (email, name) = store::person(&mut conn, person)
        .await?
        .ok_or_else(expired_session)?;
    let rows = store::memberships(&mut conn, person).await?;
    let memberships = rows
        .into_iter()
        .filter_map(|(account_id, account, role)| {
            Some(Membership {
                account_id,
                account,
                role: Role::parse(&role)?,
            })
        })
        .collect();
    Ok(Profile {
        id: person,
        email,
        name,
        memberships,
    })
}

/// A person as shown to them and to their fellow members.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The person's id.
    pub id: Uuid,
    /// Their log-in email.
    pub email: Option<String>,
    /// Their display name.
    pub name: Option<String>,
    /// Their accounts and roles, by account name.
    pub memberships: Vec<Membership>,
}

/// A person's role in one account.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The account's id.
    pub account_id: Uuid,
    /// The account's name.
    pub account: String,
    /// The person's role there.
    pub role: Role,
}
