//! Registration tokens: what an admin hands to an agent (or a colleague's CLI) so that it can
//! register clusters, and nothing else. Each has a time to live (default 1 hour, at most 7
//! days), a use limit and labels it applies to every cluster it registers. The secret is
//! shown once and stored as its SHA-256 beside a lookup prefix. The SQL is in `store`, the
//! endpoints in `handlers`.

pub mod handlers;
pub mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Origin};
use flotilla_core::auth::credentials::REGISTRATION_TOKEN_PREFIX;
use flotilla_core::auth::{opaque, AccountAccess};
use flotilla_core::tokens::{check_label, check_lifetime, TokenKind};
use flotilla_core::{AppContext, Error, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::labels::{self, Labels};

/// Registration tokens, as the shared token rules name them.
const REGISTRATION_TOKENS: TokenKind = TokenKind {
    noun: "registration token",
    audit_noun: "registration-token",
    prefix: REGISTRATION_TOKEN_PREFIX,
};

/// Default time to live.
pub const DEFAULT_TTL_SECS: u64 = 3600;
/// Longest time to live: 7 days.
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;
/// Largest use limit.
pub const MAX_USES: u32 = 10_000;

/// A registration token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistrationToken {
    /// What it is for (1-100 characters).
    #[schema(
        example = "eu-west-1 clusters",
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub description: String,
    /// Seconds until it stops working: 1 to 604800 (7 days); 3600 when absent.
    #[serde(default)]
    #[schema(example = 3600, minimum = 1, maximum = 604800)]
    pub ttl_seconds: Option<u64>,
    /// How many registrations it may make (1-10000); 1 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_uses: Option<u32>,
    /// Labels applied to every cluster it registers (Kubernetes label syntax); a registration
    /// that asks for another value of one of them is refused.
    #[serde(default)]
    #[schema(schema_with = crate::labels::schema)]
    pub labels: Labels,
}

/// A registration token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationToken {
    /// Its id (for revoking).
    pub id: Uuid,
    /// What it is for.
    pub description: String,
    /// The start of the token (`flreg_<lookup>`), to recognise it.
    pub prefix: String,
    /// Labels it applies.
    #[schema(inline)]
    pub labels: Labels,
    /// Registrations it may make.
    pub max_uses: i32,
    /// Registrations it made.
    pub uses: i32,
    /// `active`, `used-up`, `expired` or `revoked`.
    pub state: &'static str,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it last registered a cluster.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A created registration token, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRegistrationToken {
    /// The token, with its secret: `Authorization: Bearer <token>` on
    /// `PUT /api/v1/accounts/{account}/clusters/{cluster}`.
    pub token: String,
    /// The token's details.
    #[serde(flatten)]
    pub details: RegistrationToken,
}

/// A registration token to create, checked.
#[derive(Debug)]
pub struct CheckedToken {
    /// What it is for, trimmed.
    pub description: String,
    /// Seconds until it stops working.
    pub ttl_secs: u64,
    /// Registrations it may make.
    pub max_uses: u32,
    /// Labels it applies.
    pub labels: Labels,
}

impl NewRegistrationToken {
    /// The token to create, or every problem with the request.
    pub fn check(self) -> Result<CheckedToken, Error> {
        let mut errors = Vec::new();
        let description = match check_label("/description", &self.description) {
            Ok(description) => description,
            Err(refused) => {
                errors.push(refused);
                ""
            }
        };
        let ttl = self.ttl_seconds.unwrap_or(DEFAULT_TTL_SECS);
        let longest = Duration::from_secs(MAX_TTL_SECS);
        if check_lifetime(Duration::from_secs(ttl), longest).is_err() {
            errors.push(FieldError::new(
                "/ttl_seconds",
                format!("must be from 1 to {MAX_TTL_SECS} seconds (7 days); got {ttl}"),
            ));
        }
        let max_uses = self.max_uses.unwrap_or(1);
        if max_uses == 0 || max_uses > MAX_USES {
            errors.push(FieldError::new(
                "/max_uses",
                format!("must be from 1 to {MAX_USES}; got {max_uses}"),
            ));
        }
        errors.extend(labels::check("/labels", &self.labels));
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(CheckedToken {
            description: description.to_owned(),
            ttl_secs: ttl,
            max_uses,
            labels: self.labels,
        })
    }
}

/// Creates a registration token of the caller's account, with its audit entry.
pub async fn create_token(
    ctx: &AppContext,
    access: &AccountAccess,
    actor: &Actor,
    origin: &Origin,
    new: CheckedToken,
) -> Result<CreatedRegistrationToken, Error> {
    let minted = REGISTRATION_TOKENS.mint();
    let id = minted.id;
    let labels_json = serde_json::to_value(&new.labels).map_err(anyhow::Error::from)?;
    let mut tx = ctx.db.begin().await?;
    let (created_at, expires_at) = store::insert(
        &mut tx,
        &store::NewToken {
            id,
            account_id: access.account_id,
            lookup: &minted.lookup,
            secret_hash: &minted.secret_hash,
            description: &new.description,
            labels: &labels_json.to_string(),
            max_uses: new.max_uses as i32,
            created_by: access.caller.person(),
            ttl_secs: new.ttl_secs as f64,
        },
    )
    .await?;
    let details = serde_json::json!({
        "id": id, "max_uses": new.max_uses, "expires_at": expires_at, "labels": labels_json,
    });
    REGISTRATION_TOKENS
        .record_created(&mut tx, access, actor, origin, &new.description, details)
        .await?;
    tx.commit().await?;
    let details = RegistrationToken {
        id,
        prefix: REGISTRATION_TOKENS.shown_prefix(&minted.lookup),
        description: new.description,
        labels: new.labels,
        max_uses: new.max_uses as i32,
        uses: 0,
        state: "active",
        created_at,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok(CreatedRegistrationToken {
        token: minted.token,
        details,
    })
}

/// The registration tokens of `account_id`, newest first, never their secrets.
pub async fn list_tokens(
    ctx: &AppContext,
    account_id: Uuid,
) -> Result<Vec<RegistrationToken>, Error> {
    let rows = store::list(&mut *ctx.db.acquire().await?, account_id).await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let state = if row.revoked_at.is_some() {
                "revoked"
            } else if row.expires_at <= now {
                "expired"
            } else if row.uses >= row.max_uses {
                "used-up"
            } else {
                "active"
            };
            RegistrationToken {
                id: row.id,
                description: row.description,
                prefix: REGISTRATION_TOKENS.shown_prefix(&row.prefix),
                labels: serde_json::from_str(&row.labels).unwrap_or_default(),
                max_uses: row.max_uses,
                uses: row.uses,
                state,
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            }
        })
        .collect())
}

/// Revokes the token `id` of the caller's account at once, with its audit entry.
pub async fn revoke_token(
    ctx: &AppContext,
    access: &AccountAccess,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
) -> Result<(), Error> {
    let mut tx = ctx.db.begin().await?;
    let revoked = store::revoke(&mut tx, id, access.account_id).await?;
    REGISTRATION_TOKENS
        .record_revoked(&mut tx, access, actor, origin, id, revoked)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A registration token presented to register a cluster.
#[derive(Debug, Clone)]
pub struct Presented {
    /// Its id.
    pub id: Uuid,
    /// The account it belongs to.
    pub account_id: Uuid,
    /// Its description (for the audit log).
    pub description: String,
    /// Labels it applies.
    pub labels: Labels,
    /// Whether it may make another registration.
    pub uses_left: bool,
}

fn refused() -> Error {
    Error::Unauthorized(
        "The registration token is invalid, expired or revoked, or belongs to another account."
            .into(),
    )
}

/// Finds a live registration token of `account` (not consuming a use).
pub async fn find(db: &sqlx::PgPool, account: &str, token: &str) -> Result<Presented, Error> {
    let lookup = opaque::token_lookup(token, REGISTRATION_TOKEN_PREFIX).ok_or_else(refused)?;
    let row = store::find_live(&mut *db.acquire().await?, lookup, account).await?;
    let row = row.ok_or_else(refused)?;
    if !opaque::constant_time_eq(&row.secret_hash, &opaque::hash(token)) {
        return Err(refused());
    }
    Ok(Presented {
        id: row.id,
        account_id: row.account_id,
        description: row.description,
        labels: serde_json::from_str(&row.labels).unwrap_or_default(),
        uses_left: row.uses_left,
    })
}

/// Takes one use of the token, in the registration's transaction; refuses when it has none
/// left (or was revoked or expired meanwhile).
pub async fn consume(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    if !store::take_use(conn, id).await? {
        return Err(Error::Unauthorized(
            "The registration token has no registrations left.".into(),
        ));
    }
    Ok(())
}
