//! Flotilla's token-signing keys (ES256): created at first start, kept in Postgres sealed
//! under the wrapping secret, rotated on a schedule. A retired key stops signing at once but
//! stays published until every token it signed has expired.

mod seal;
pub mod store;
mod wrapping;

use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flotilla_core::auth::access_token::{ACCESS_TOKEN_LIFETIME, LEEWAY_SECS};
use flotilla_core::auth::cache;
use flotilla_core::config::Config;
use flotilla_core::AppContext;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Serialize;
use serde_json::{json, Value};

use seal::Sealer;

use crate::error::{Error, Result};
use crate::metrics::AccountsMetrics;
use crate::settings::AccountsSettings;

/// How long a replica keeps using the key it loaded before checking for a newer one. A
/// retired key stays published [`PUBLISH_MARGIN`] longer than its tokens live, which covers it.
const ACTIVE_KEY_RELOAD: Duration = Duration::from_secs(60);

/// Extra time a retired key stays published, beyond the lifetime of the tokens it signed.
const PUBLISH_MARGIN: Duration = Duration::from_secs(300);

/// The signer of this replica: the wrapping key and the active signing key.
pub struct Signer {
    sealer: Sealer,
    rotation: Duration,
    active: RwLock<Option<SigningKey>>,
}

/// The active key, loaded: signing with it needs no database. A caller that signs inside a
/// transaction loads it before beginning, so that no request holds two connections at once
/// (a refresh holding row locks while a reload waited for a second connection once drained
/// the pool).
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: EncodingKey,
    loaded: Instant,
}

impl SigningKey {
    /// Signs `claims` as an access token for Flotilla's API (`typ` `at+jwt`, RFC 9068).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        self.sign_typed("at+jwt", claims)
    }

    /// Signs `claims` as a JWT of type `typ`.
    pub fn sign_typed<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.into());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| Error::internal(anyhow::anyhow!("signing a token: {e}")))
    }
}

impl Signer {
    /// The signer for `settings` (reading or, in development mode, creating the wrapping key
    /// in `config`'s data directory).
    pub fn new(config: &Config, settings: &AccountsSettings) -> anyhow::Result<Self> {
        Ok(Self {
            sealer: Sealer::new(&wrapping::wrapping_key(config, settings)?),
            rotation: Duration::from_secs(u64::from(settings.signing_key_rotation_days) * 86_400),
            active: RwLock::new(None),
        })
    }

    /// Signs `claims` as an access token for Flotilla's API with the current key.
    pub async fn sign<T: Serialize>(&self, ctx: &AppContext, claims: &T) -> Result<String> {
        self.key(ctx).await?.sign(claims)
    }

    /// Signs `claims` as a JWT of type `typ` with the current key.
    pub async fn sign_typed<T: Serialize>(
        &self,
        ctx: &AppContext,
        typ: &str,
        claims: &T,
    ) -> Result<String> {
        self.key(ctx).await?.sign_typed(typ, claims)
    }

    /// The current key, read again from the database once a minute (another replica may
    /// have rotated it).
    pub async fn key(&self, ctx: &AppContext) -> Result<SigningKey> {
        let cached = self
            .active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(active) = cached.filter(|a| a.loaded.elapsed() < ACTIVE_KEY_RELOAD) {
            return Ok(active);
        }
        // The connection goes back to the pool at the end of this statement, before a first
        // key is created in a transaction of its own.
        let row = store::active(&mut *ctx.db.acquire().await?).await?;
        let store::ActiveKey { kid, sealed_key } = match row {
            Some(found) => found,
            None => {
                self.rotate_if_due(ctx).await?;
                return Box::pin(self.key(ctx)).await;
            }
        };
        let pkcs8 = self
            .sealer
            .open(&kid, &sealed_key)
            .map_err(Error::internal)?;
        let active = SigningKey {
            kid,
            key: EncodingKey::from_ec_der(&pkcs8),
            loaded: Instant::now(),
        };
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = Some(active.clone());
        Ok(active)
    }

    /// Creates the first key, or a new one when the current one is older than the rotation
    /// period (retiring it). Replicas do this under one advisory lock, so exactly one acts.
    pub async fn rotate_if_due(&self, ctx: &AppContext) -> Result<bool> {
        self.rotate(ctx, false).await
    }

    /// Retires the active key now and creates a new one, sealed under this signer's wrapping
    /// secret (`flotilla-server rotate-signing-key`). The retired key stays published as long
    /// as a scheduled rotation leaves it, so the tokens it signed still verify.
    pub async fn rotate_now(&self, ctx: &AppContext) -> Result<()> {
        self.rotate(ctx, true).await.map(|_| ())
    }

    /// Stops publishing every retired key at once: the access tokens they signed stop
    /// verifying (for a key that may have leaked). Returns how many keys it unpublished.
    pub async fn unpublish_retired(&self, ctx: &AppContext) -> Result<u64> {
        let mut tx = ctx.db.begin().await?;
        let done = store::unpublish_retired(&mut tx).await?;
        cache::announce(&mut tx, "keys").await?;
        tx.commit().await?;
        ctx.auth.forget("keys");
        Ok(done)
    }

    async fn rotate(&self, ctx: &AppContext, force: bool) -> Result<bool> {
        let mut tx = ctx.db.begin().await?;
        store::lock_rotation(&mut tx).await?;
        let due = force || store::rotation_due(&mut tx, self.rotation.as_secs_f64()).await?;
        if due {
            let published =
                ACCESS_TOKEN_LIFETIME + Duration::from_secs(LEEWAY_SECS) + PUBLISH_MARGIN;
            store::retire_active(&mut tx, published.as_secs_f64()).await?;
            let (kid, jwk, pkcs8) = generate_key()?;
            store::insert(
                &mut tx,
                &kid,
                &jwk.to_string(),
                &self.sealer.seal(&kid, &pkcs8),
            )
            .await?;
            tracing::info!(kid = %kid, "token-signing key created");
        }
        // Retired keys are deleted a day after they stopped being published.
        store::forget_unpublished(&mut tx).await?;
        if due {
            cache::announce(&mut tx, "keys").await?;
        }
        tx.commit().await?;
        if due {
            *self.active.write().unwrap_or_else(|e| e.into_inner()) = None;
            ctx.auth.forget("keys");
        }
        Ok(due)
    }
}

/// The published keys as a JWK Set.
pub async fn jwks(ctx: &AppContext) -> Result<Value> {
    let keys = store::published_jwks(&mut *ctx.db.acquire().await?).await?;
    let keys = keys
        .iter()
        .map(|k| serde_json::from_str::<Value>(k).map_err(Error::internal))
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({ "keys": keys }))
}

/// A new P-256 key: its kid (RFC 7638 thumbprint), public JWK and PKCS#8 private key.
fn generate_key() -> Result<(String, Value, Vec<u8>)> {
    let rng = SystemRandom::new();
    let failed = |what: &str| Error::internal(anyhow::anyhow!("generating a signing key: {what}"));
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| failed("no randomness"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| failed("unreadable key"))?;
    // An uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = pair.public_key().as_ref();
    if point.len() != 65 {
        return Err(failed("unexpected public key"));
    }
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..]),
    );
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ));
    let jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig" });
    Ok((kid, jwk, pkcs8.as_ref().to_vec()))
}

/// Checks the schedule now and then, until the process ends, and reports the current key's
/// age as a metric.
pub async fn run_rotation(
    ctx: AppContext,
    signer: std::sync::Arc<Signer>,
    metrics: AccountsMetrics,
) {
    loop {
        if let Err(e) = signer.rotate_if_due(&ctx).await {
            tracing::warn!(error = %e, "checking the token-signing key schedule failed; will retry");
        }
        match current_key_created(&ctx).await {
            Ok(Some(at)) => {
                metrics.signing_key_created.set(at);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading the token-signing key's age failed"),
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

/// When the current signing key was made, in Unix seconds.
async fn current_key_created(ctx: &AppContext) -> Result<Option<i64>> {
    Ok(store::active_created(&mut *ctx.db.acquire().await?).await?)
}
