//! Grants (refresh-token families) and the tokens issued under them: a 10-minute access
//! token and an opaque refresh token, rotated on every use. Presenting a used refresh token
//! again revokes the whole family, except within a short grace window in which the client
//! may simply never have received the new pair.
//!
//! This module holds those rules; [`store`] holds their SQL (`oauth_grants` and
//! `refresh_tokens`).

pub mod store;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flotilla_core::auth::access_token::{audience, AccessClaims, ACCESS_TOKEN_LIFETIME};
use flotilla_core::auth::{cache, opaque};
use flotilla_core::AppContext;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{oauth, Result};
use crate::keys::SigningKey;
use crate::Accounts;

/// Absolute lifetime of a grant: its refresh tokens stop working after it.
pub const GRANT_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// How soon after a refresh token's use it may be presented again without being taken for a
/// theft (the client lost the response): the unused successor is then replaced.
pub const REUSE_GRACE: Duration = Duration::from_secs(30);

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token: a JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token: single use, rotated each time.
    pub refresh_token: String,
    /// The granted scopes.
    pub scope: String,
}

/// Starts a grant for `person` and issues its first tokens, signed with `key` (loaded before
/// the caller's transaction began).
pub async fn start_grant(
    ctx: &AppContext,
    key: &SigningKey,
    conn: &mut PgConnection,
    person: Uuid,
    client_id: &str,
    scope: &str,
) -> Result<(Uuid, TokenResponse)> {
    let grant = Uuid::new_v4();
    store::insert_grant(conn, grant, person, client_id, scope, GRANT_LIFETIME).await?;
    let tokens = issue(ctx, key, conn, grant, person, client_id, scope).await?;
    Ok((grant, tokens))
}

/// Issues an access token and a new refresh token under `grant`.
async fn issue(
    ctx: &AppContext,
    key: &SigningKey,
    conn: &mut PgConnection,
    grant: Uuid,
    person: Uuid,
    client_id: &str,
    scope: &str,
) -> Result<TokenResponse> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let issuer = ctx.config.issuer().to_owned();
    let claims = AccessClaims {
        aud: audience(&issuer),
        iss: issuer,
        sub: person,
        iat: now,
        exp: now + ACCESS_TOKEN_LIFETIME.as_secs(),
        jti: Uuid::new_v4(),
        sid: grant,
        client_id: client_id.to_owned(),
        scope: scope.to_owned(),
    };
    let access_token = key.sign(&claims)?;
    let refresh_token = format!("flr_{}", opaque::new_secret());
    store::insert_refresh_token(conn, &opaque::hash(&refresh_token), grant).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
        refresh_token,
        scope: scope.to_owned(),
    })
}

/// Revokes a whole grant (its refresh tokens and access tokens), e.g. on reuse or log-out.
pub async fn revoke_grant(conn: &mut PgConnection, grant: Uuid, reason: &str) -> Result<()> {
    store::revoke_grant(conn, grant, reason).await?;
    cache::announce(conn, "grant").await?;
    Ok(())
}

/// Revokes the grant of `token`, a refresh token or else an access token (RFC 7009); nothing
/// when it is neither.
pub async fn revoke_token(ctx: &AppContext, token: &str) -> Result<()> {
    // The connection goes back to the pool before verifying an access token, which may
    // need one.
    let by_refresh =
        store::grant_of_refresh_token(&mut *ctx.db.acquire().await?, &opaque::hash(token)).await?;
    let grant = match by_refresh {
        Some(grant) => Some(grant),
        None => ctx
            .auth
            .keys
            .verify(&ctx.db, ctx.config.issuer(), token)
            .await
            .ok()
            .map(|claims| claims.sid),
    };
    if let Some(grant) = grant {
        let mut tx = ctx.db.begin().await?;
        revoke_grant(&mut tx, grant, "revoked by the client").await?;
        tx.commit().await?;
        ctx.auth.forget("grant");
        tracing::info!(grant = %grant, "grant revoked");
    }
    Ok(())
}

/// The refresh-token grant: rotates `presented` and issues a new pair.
pub async fn refresh(
    ctx: &AppContext,
    accounts: &Accounts,
    client_id: &str,
    presented: &str,
) -> Result<TokenResponse> {
    // Loaded first: the transaction below holds row locks that concurrent refreshes of the
    // same token wait on, each holding a connection.
    let key = accounts.signer.key(ctx).await?;
    let mut tx = ctx.db.begin().await?;
    let presented_hash = opaque::hash(presented);
    let invalid = || {
        oauth(
            "invalid_grant",
            "The refresh token is invalid, expired or revoked; log in again.",
        )
    };
    let token = store::lock_refresh_token(&mut tx, &presented_hash, REUSE_GRACE)
        .await?
        .ok_or_else(invalid)?;
    let grant = token.grant_id;
    if token.client_id != client_id {
        return Err(oauth(
            "invalid_grant",
            "The refresh token was issued to another client.",
        ));
    }
    if !token.live {
        return Err(invalid());
    }
    if token.used {
        let unused_successor = match token.replaced_by {
            Some(successor) => store::refresh_token_unused(&mut tx, &successor)
                .await?
                .then_some(successor),
            None => None,
        };
        let Some(successor) = unused_successor.filter(|_| token.within_grace == Some(true)) else {
            revoke_grant(&mut tx, grant, "refresh token reused").await?;
            tx.commit().await?;
            ctx.auth.forget("grant");
            tracing::warn!(grant = %grant, "refresh token reused: its whole family is revoked");
            return Err(oauth(
                "invalid_grant",
                "This refresh token was already used, so every token of this log-in is revoked; log in again.",
            ));
        };
        // The client lost the previous answer: retire the successor it never saw.
        store::retire_refresh_token(&mut tx, &successor).await?;
    }
    let tokens = issue(
        ctx,
        &key,
        &mut tx,
        grant,
        token.person_id,
        client_id,
        &token.scope,
    )
    .await?;
    store::rotate_refresh_token(
        &mut tx,
        &presented_hash,
        &opaque::hash(&tokens.refresh_token),
    )
    .await?;
    tx.commit().await?;
    Ok(tokens)
}
