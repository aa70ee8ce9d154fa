//! Authorization codes of the authorization-code grant: issued by the consent page
//! ([`super::authorize`]) when a person allows the CLI, redeemed once at the token endpoint
//! for a grant, with PKCE and the same loopback redirect URI. A replayed code revokes what was
//! issued with it.
//!
//! This module holds those rules; [`store`] holds their SQL (`authorization_codes`).

pub mod store;

use std::time::Duration;

use flotilla_core::auth::opaque;
use flotilla_core::AppContext;
use uuid::Uuid;

use super::grants::{self, TokenResponse};
use super::pkce_matches;
use super::token::{required, TokenRequest};
use crate::error::{oauth, Result};
use crate::Accounts;

/// How long an authorization code lives.
const CODE_TTL: Duration = Duration::from_secs(60);

/// Issues a new code for `person`'s consent to `client_id` (with `scope`, sent to
/// `redirect_uri`, bound to the PKCE `challenge`).
pub async fn create(
    ctx: &AppContext,
    person: Uuid,
    client_id: &str,
    redirect_uri: &str,
    challenge: &str,
    scope: &str,
) -> Result<String> {
    let code = opaque::new_secret();
    let mut conn = ctx.db.acquire().await?;
    let new = store::NewAuthorizationCode {
        code_hash: &opaque::hash(&code),
        person_id: person,
        client_id,
        redirect_uri,
        code_challenge: challenge,
        scope,
        ttl: CODE_TTL,
    };
    store::insert(&mut conn, &new).await?;
    Ok(code)
}

/// The token endpoint's authorization-code grant: redeems the code of `request` once, for
/// a new grant and its first tokens.
pub async fn redeem(
    ctx: &AppContext,
    accounts: &Accounts,
    client_id: &str,
    request: &TokenRequest,
) -> Result<TokenResponse> {
    let code = required(&request.code, "code")?;
    let redirect_uri = required(&request.redirect_uri, "redirect_uri")?;
    let verifier = required(&request.code_verifier, "code_verifier")?;
    // Loaded before the transaction, which must not wait for a second connection.
    let key = accounts.signer.key(ctx).await?;
    let mut tx = ctx.db.begin().await?;
    let code_hash = opaque::hash(code);
    let presented = store::lock(&mut tx, &code_hash)
        .await?
        .ok_or_else(|| oauth("invalid_grant", "The authorization code is invalid."))?;
    if presented.used {
        // RFC 6749 §4.1.2: a replayed code revokes what was issued with it.
        if let Some(grant) = presented.grant_id {
            grants::revoke_grant(&mut tx, grant, "authorization code replayed").await?;
        }
        tx.commit().await?;
        ctx.auth.forget("grant");
        return Err(oauth(
            "invalid_grant",
            "The authorization code was already used; the tokens issued with it are revoked.",
        ));
    }
    if !presented.live {
        return Err(oauth(
            "invalid_grant",
            "The authorization code has expired; start again.",
        ));
    }
    if presented.client_id != client_id || presented.redirect_uri != redirect_uri {
        return Err(oauth(
            "invalid_grant",
            "The code was issued to another client or redirect_uri.",
        ));
    }
    if !pkce_matches(verifier, &presented.code_challenge) {
        return Err(oauth(
            "invalid_grant",
            "PKCE verification failed: code_verifier does not match the code_challenge.",
        ));
    }
    let (grant, tokens) = grants::start_grant(
        ctx,
        &key,
        &mut tx,
        presented.person_id,
        client_id,
        &presented.scope,
    )
    .await?;
    store::mark_used(&mut tx, &code_hash, grant).await?;
    tx.commit().await?;
    Ok(tokens)
}
