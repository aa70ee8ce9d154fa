//! API tokens of an account: a name, a role (at most the creator's), a required expiry of at
//! most a year; the secret is shown once and stored as its SHA-256 beside a lookup prefix.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::credentials::API_TOKEN_PREFIX;
use flotilla_core::auth::{commit_change, opaque, AccountAccess, Role};
use flotilla_core::names::{short_text, SHORT_TEXT_RULE};
use flotilla_core::{AppContext, Error as CoreError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Longest lifetime of an API token.
const MAX_LIFETIME_DAYS: i64 = 366;

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

/// Creates an API token.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/tokens", tag = "tokens",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewApiToken,
    responses(
        (status = 201, description = "Created; `token` holds the secret, shown only now", body = CreatedApiToken),
        (status = 403, description = "Needs the admin role, or a role above the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name or expiry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>)> {
    access.require(Role::Admin)?;
    // A token cannot mint tokens: a leaked one must not be able to renew itself.
    access.caller.require_person()?;
    if body.role > access.role {
        return Err(CoreError::Forbidden(format!(
            "A token cannot have more power than its creator: you are {}, the token asks for {}.",
            access.role, body.role
        ))
        .into());
    }
    let Some(name) = short_text(&body.name) else {
        return Err(Error::invalid("/name", SHORT_TEXT_RULE));
    };
    let now = Utc::now();
    if body.expires_at <= now {
        return Err(Error::invalid("/expires_at", "must be in the future"));
    }
    if body.expires_at > now + Duration::days(MAX_LIFETIME_DAYS) {
        return Err(Error::invalid(
            "/expires_at",
            "must be at most one year away",
        ));
    }
    let (token, lookup) = opaque::new_token(API_TOKEN_PREFIX);
    let id = Uuid::new_v4();
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO api_tokens (id, account_id, name, role, prefix, secret_hash, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at",
    )
    .bind(id)
    .bind(access.account_id)
    .bind(name)
    .bind(body.role.as_str())
    .bind(&lookup)
    .bind(opaque::hash(&token))
    .bind(access.caller.person())
    .bind(body.expires_at)
    .fetch_one(&mut *tx)
    .await?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "api-token.created",
        target: name,
        details: serde_json::json!({ "id": id, "role": body.role, "expires_at": body.expires_at }),
    }
    .record(&mut tx)
    .await?;
    tx.commit().await?;
    tracing::info!(account = %access.account, token = %id, role = %body.role, "API token created");
    let details = ApiToken {
        id,
        name: name.to_owned(),
        role: body.role,
        prefix: format!("{API_TOKEN_PREFIX}{lookup}"),
        created_at,
        expires_at: body.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiToken { token, details }),
    ))
}

/// Lists the account's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/tokens", tag = "tokens",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The tokens, newest first", body = [ApiToken]),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_tokens(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<ApiToken>>> {
    access.require(Role::Admin)?;
    type Row = (
        Uuid,
        String,
        String,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, role, prefix, created_at, expires_at, last_used_at, revoked_at \
         FROM api_tokens WHERE account_id = $1 ORDER BY created_at DESC",
    )
    .bind(access.account_id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(
                |(id, name, role, prefix, created_at, expires_at, last_used_at, revoked_at)| {
                    Some(ApiToken {
                        id,
                        name,
                        role: Role::parse(&role)?,
                        prefix: format!("{API_TOKEN_PREFIX}{prefix}"),
                        created_at,
                        expires_at,
                        last_used_at,
                        revoked_at,
                    })
                },
            )
            .collect(),
    ))
}

/// Revokes an API token at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/tokens/{id}", tag = "tokens",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("id" = Uuid, Path, description = "The token's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn revoke_token(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, Uuid)>,
) -> Result<StatusCode> {
    access.require(Role::Admin)?;
    let id = path.1;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) \
         WHERE id = $1 AND account_id = $2 RETURNING name",
    )
    .bind(id)
    .bind(access.account_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = name else {
        return Err(CoreError::NotFound(format!(
            "Account {} has no API token {id}.",
            access.account
        ))
        .into());
    };
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "api-token.revoked",
        target: &name,
        details: serde_json::json!({ "id": id }),
    }
    .record(&mut tx)
    .await?;
    commit_change(&ctx, tx, "api-token").await?;
    tracing::info!(account = %access.account, token = %id, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
