//! API tokens of an account: a name, a role (at most the creator's), a required expiry of at
//! most a year; the secret is shown once and stored as its SHA-256 beside a lookup prefix.
//!
//! This module holds the types and what creating and revoking mean (their audit entries);
//! `store` holds the SQL and `handlers` the HTTP side.

mod handlers;
pub mod store;

// `lib.rs` registers the handlers (with utoipa's `__path_*` items) as `api_tokens::<handler>`.
pub use handlers::*;

use std::time::Duration;

use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Origin};
use flotilla_core::auth::credentials::API_TOKEN_PREFIX;
use flotilla_core::auth::{commit_change, AccountAccess, Role};
use flotilla_core::tokens::{check_label, check_lifetime, LifetimeRefusal, TokenKind};
use flotilla_core::{AppContext, Error as CoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

/// API tokens, as the shared token rules name them.
const API_TOKENS: TokenKind = TokenKind {
    noun: "API token",
    audit_noun: "api-token",
    prefix: API_TOKEN_PREFIX,
};

/// Longest lifetime of an API token: 366 days.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// What it is for (1-100 characters).
    #[schema(
        example = "ci-deployer",
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: String,
    /// Its role: at most the creator's.
    pub role: Role,
    /// When it stops working: in the future, at most one year away.
    pub expires_at: DateTime<Utc>,
}

impl NewApiToken {
    /// The token's name, trimmed, or the first problem with its name or expiry.
    fn check(&self) -> Result<&str> {
        let name = check_label("/name", &self.name).map_err(|e| CoreError::Validation(vec![e]))?;
        let lifetime = (self.expires_at - Utc::now()).to_std().unwrap_or_default();
        check_lifetime(lifetime, MAX_LIFETIME).map_err(|refusal| {
            let message = match refusal {
                LifetimeRefusal::NotPositive => "must be in the future",
                LifetimeRefusal::TooLong => "must be at most one year away",
            };
            Error::invalid("/expires_at", message)
        })?;
        Ok(name)
    }
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiToken {
    /// Its id (for revoking).
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The start of the token (`flt_<lookup>`), to recognise it.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A created API token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The token, with its secret. Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The token's details.
    #[serde(flatten)]
    pub details: ApiToken,
}

/// Creates a token of `role` named `name` (both already checked) for the account; returns
/// it with its secret.
async fn create(
    ctx: &AppContext,
    access: &AccountAccess,
    origin: &Origin,
    name: &str,
    role: Role,
    expires_at: DateTime<Utc>,
) -> Result<CreatedApiToken> {
    let minted = API_TOKENS.mint();
    let id = minted.id;
    let actor = Actor::of(ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let created_at = store::insert(
        &mut tx,
        &store::NewTokenRow {
            id,
            account_id: access.account_id,
            name,
            role: role.as_str(),
            prefix: &minted.lookup,
            secret_hash: &minted.secret_hash,
            created_by: access.caller.person(),
            expires_at,
        },
    )
    .await?;
    let details = serde_json::json!({ "id": id, "role": role, "expires_at": expires_at });
    API_TOKENS
        .record_created(&mut tx, access, &actor, origin, name, details)
        .await?;
    tx.commit().await?;
    tracing::info!(account = %access.account, token = %id, role = %role, "API token created");
    let details = ApiToken {
        id,
        name: name.to_owned(),
        role,
        prefix: API_TOKENS.shown_prefix(&minted.lookup),
        created_at,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok(CreatedApiToken {
        token: minted.token,
        details,
    })
}

/// The account's tokens, newest first.
async fn list(ctx: &AppContext, account: Uuid) -> Result<Vec<ApiToken>> {
    let rows = store::list(&mut *ctx.db.acquire().await?, account).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(ApiToken {
                id: row.id,
                name: row.name,
                role: Role::parse(&row.role)?,
                prefix: API_TOKENS.shown_prefix(&row.prefix),
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            })
        })
        .collect())
}

/// Revokes the account's token `id` at once (the caches of every replica forget it).
async fn revoke(ctx: &AppContext, access: &AccountAccess, origin: &Origin, id: Uuid) -> Result<()> {
    let actor = Actor::of(ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let revoked = store::revoke(&mut tx, id, access.account_id).await?;
    API_TOKENS
        .record_revoked(&mut tx, access, &actor, origin, id, revoked)
        .await?;
    commit_change(ctx, tx, "api-token").await?;
    tracing::info!(account = %access.account, token = %id, "API token revoked");
    Ok(())
}
