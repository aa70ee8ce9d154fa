//! The device authorization grant (RFC 8628): `POST /oauth/device_authorization` starts it,
//! the person approves on `GET|POST /device` with the user code, and the device polls the
//! token endpoint (too fast → `slow_down`). User codes are 8 letters from a 20-letter
//! alphabet without vowels (about 34.6 bits), expire after 10 minutes, and their entry is
//! rate-limited, so guessing one in time is hopeless.
//!
//! This module holds the grant's types and rules; [`handlers`] its endpoints and pages;
//! [`store`] its SQL (`device_codes`).

pub mod handlers;
pub mod store;

// The handlers keep the paths they always had (`oauth::device::start`, whose OpenAPI
// description `routes!` finds beside it as `__path_start`).
pub use handlers::*;

use std::time::Duration;

use flotilla_core::auth::opaque::{self, random_bytes};
use flotilla_core::AppContext;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::grants::{self, TokenResponse};
use crate::error::{oauth, Result};
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
    #[schema(
        pattern = "^ *((api|openid|profile|email|offline_access)( +(api|openid|profile|email|offline_access))*)? *$"
    )]
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

/// Stores a new pending device authorization for `client_id` and `scope`, under a user code
/// no other device authorization holds, and says where the person approves it.
pub async fn new_authorization(
    ctx: &AppContext,
    client_id: &str,
    scope: &str,
) -> Result<DeviceAuthorization> {
    let device_code = opaque::new_secret();
    let device_code_hash = opaque::hash(&device_code);
    let mut conn = ctx.db.acquire().await?;
    let user_code = loop {
        let candidate = new_user_code();
        let new = store::NewDeviceCode {
            device_code_hash: &device_code_hash,
            user_code: &candidate,
            client_id,
            scope,
            ttl: Duration::from_secs(DEVICE_TTL_SECS),
            interval_secs: INTERVAL_SECS,
        };
        if store::insert(&mut conn, &new).await? {
            break candidate;
        }
    };
    let shown = format!("{}-{}", &user_code[..4], &user_code[4..]);
    let verification_uri = format!("{}/device", ctx.config.issuer());
    Ok(DeviceAuthorization {
        device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        user_code: shown,
        verification_uri,
        expires_in: DEVICE_TTL_SECS,
        interval: INTERVAL_SECS,
    })
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
    let hash = opaque::hash(device_code);
    let polled = store::lock_for_poll(&mut tx, &hash)
        .await?
        .ok_or_else(|| oauth("invalid_grant", "The device code is invalid."))?;
    if polled.client_id != client_id {
        return Err(oauth(
            "invalid_grant",
            "The device code was issued to another client.",
        ));
    }
    if !polled.live {
        return Err(oauth(
            "expired_token",
            "The device code has expired; start again.",
        ));
    }
    if polled.too_soon {
        store::slow_down(&mut tx, &hash).await?;
        tx.commit().await?;
        return Err(oauth(
            "slow_down",
            "Polling too fast: wait 5 s more between polls.",
        ));
    }
    store::record_poll(&mut tx, &hash).await?;
    let result = match (polled.status.as_str(), polled.person_id) {
        ("approved", Some(person)) => {
            store::mark_used(&mut tx, &hash).await?;
            let (_, tokens) =
                grants::start_grant(ctx, &key, &mut tx, person, client_id, &polled.scope).await?;
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
