//! Flotilla's access tokens: ES256 JWTs of 10 minutes, issued by the accounts service for the
//! API and the CLI, verified here with the published keys. The algorithm is pinned (ES256
//! only), and so are the issuer and the audience.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// How long an access token lives.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Clock skew tolerated when checking `exp` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer: `FLOTILLA_PUBLIC_URL`.
    pub iss: String,
    /// The person, by id.
    pub sub: Uuid,
    /// The API: `<issuer>/api`.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// This token's id.
    pub jti: Uuid,
    /// The grant (refresh-token family) it belongs to; revoking the grant revokes it.
    pub sid: Uuid,
    /// The OAuth client it was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
}

/// The audience of access tokens for an issuer.
pub fn audience(issuer: &str) -> String {
    format!("{issuer}/api")
}

/// Why an access token is refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, a bad signature, the wrong issuer, audience or algorithm, or expired.
    #[error("the access token is invalid or expired")]
    Invalid,
    /// The keys could not be loaded.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// The published verification keys, loaded from Postgres and reloaded when a token names a
/// key not seen yet (at most once a second, so random `kid`s cannot hammer the database).
#[derive(Default)]
pub struct KeySet {
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_load: RwLock<Option<Instant>>,
}

impl KeySet {
    /// Forgets the loaded keys (after a rotation elsewhere).
    pub fn invalidate(&self) {
        write(&self.keys).clear();
        *write(&self.last_load) = None;
    }

    /// Verifies `token` for `issuer` and returns its claims.
    pub async fn verify(
        &self,
        db: &PgPool,
        issuer: &str,
        token: &str,
    ) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        if !read(&self.keys).contains_key(&kid) {
            self.reload(db).await?;
        }
        let keys = read(&self.keys);
        let key = keys.get(&kid).ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience(issuer)]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }

    async fn reload(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let fresh = read(&self.last_load).is_some_and(|at| at.elapsed() < Duration::from_secs(1));
        if fresh {
            return Ok(());
        }
        *write(&self.last_load) = Some(Instant::now());
        // The JWK comes out as text (the workspace's sqlx has no `json` feature); the cast
        // keeps the column's NOT NULL, which inference loses through the expression.
        let rows = sqlx::query!(
            r#"SELECT kid, public_jwk::text AS "public_jwk!" FROM signing_keys
               WHERE publish_until IS NULL OR publish_until > now()"#
        )
        .fetch_all(db)
        .await?;
        let keys = rows
            .into_iter()
            .filter_map(|row| {
                let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk).ok()?;
                let (x, y) = (jwk["x"].as_str()?, jwk["y"].as_str()?);
                let key = DecodingKey::from_ec_components(x, y).ok()?;
                Some((row.kid, key))
            })
            .collect();
        *write(&self.keys) = keys;
        Ok(())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}
