//! Grants (refresh-token families) and the tokens issued under them: a 10-minute access
//! token and an opaque refresh token, rotated on every use. Presenting a used refresh token
//! again revokes the whole family, except within a short grace window in which the client
//! may simply never have received the new pair.

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
    sqlx::query(
        "INSERT INTO oauth_grants (id, person_id, client_id, scope, expires_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(grant)
    .bind(person)
    .bind(client_id)
    .bind(scope)
    .bind(GRANT_LIFETIME.as_secs_f64())
    .execute(&mut *conn)
    .await?;
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
    sqlx::query("INSERT INTO refresh_tokens (token_hash, grant_id) VALUES ($1, $2)")
        .bind(opaque::hash(&refresh_token))
        .bind(grant)
        .execute(&mut *conn)
        .await?;
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
    sqlx::query(
        "UPDATE oauth_grants SET revoked_at = now(), revoked_reason = $2 \
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(grant)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    cache::announce(conn, "grant").await?;
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
    type Row = (
        Uuid,
        Uuid,
        String,
        String,
        bool,
        bool,
        Option<bool>,
        Option<Vec<u8>>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT g.id, g.person_id, g.client_id, g.scope, \
                g.revoked_at IS NULL AND g.expires_at > now(), \
                r.used_at IS NOT NULL, \
                r.used_at > now() - make_interval(secs => $2), \
                r.replaced_by \
         FROM refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id \
         WHERE r.token_hash = $1 FOR UPDATE OF r, g",
    )
    .bind(opaque::hash(presented))
    .bind(REUSE_GRACE.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    let invalid = || {
        oauth(
            "invalid_grant",
            "The refresh token is invalid, expired or revoked; log in again.",
        )
    };
    let (grant, person, owner, scope, live, used, within_grace, successor) =
        row.ok_or_else(invalid)?;
    if owner != client_id {
        return Err(oauth(
            "invalid_grant",
            "The refresh token was issued to another client.",
        ));
    }
    if !live {
        return Err(invalid());
    }
    if used {
        let successor_unused = match &successor {
            Some(hash) => sqlx::query_scalar::<_, bool>(
                "SELECT used_at IS NULL FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(false),
            None => false,
        };
        if !(within_grace == Some(true) && successor_unused) {
            revoke_grant(&mut tx, grant, "refresh token reused").await?;
            tx.commit().await?;
            ctx.auth.forget("grant");
            tracing::warn!(grant = %grant, "refresh token reused: its whole family is revoked");
            return Err(oauth(
                "invalid_grant",
                "This refresh token was already used, so every token of this log-in is revoked; log in again.",
            ));
        }
        // The client lost the previous answer: retire the successor it never saw.
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1")
            .bind(successor)
            .execute(&mut *tx)
            .await?;
    }
    let tokens = issue(ctx, &key, &mut tx, grant, person, client_id, &scope).await?;
    sqlx::query("UPDATE refresh_tokens SET used_at = coalesce(used_at, now()), replaced_by = $2 WHERE token_hash = $1")
        .bind(opaque::hash(presented))
        .bind(opaque::hash(&tokens.refresh_token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(tokens)
}
