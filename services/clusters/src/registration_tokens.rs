//! Registration tokens: what an admin hands to an agent (or a colleague's CLI) so that it can
//! register clusters, and nothing else. Each has a time to live (default 1 hour, at most 7
//! days), a use limit and labels it applies to every cluster it registers. The secret is
//! shown once and stored as its SHA-256 beside a lookup prefix.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::credentials::REGISTRATION_TOKEN_PREFIX;
use flotilla_core::auth::{opaque, AccountAccess, Role};
use flotilla_core::names::{short_text, SHORT_TEXT_RULE};
use flotilla_core::{AppContext, Error, FieldError, Problem};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::labels::{self, Labels};

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

/// Creates a registration token (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account}/registration-tokens", operation_id = "create_registration_token", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewRegistrationToken,
    responses(
        (status = 201, description = "Created; `token` holds the secret, shown only now", body = CreatedRegistrationToken),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad description, time to live, use limit or label", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewRegistrationToken>,
) -> Result<(StatusCode, Json<CreatedRegistrationToken>), Error> {
    access.require(Role::Admin)?;
    let mut errors = Vec::new();
    let description = short_text(&body.description).unwrap_or_default();
    if description.is_empty() {
        errors.push(FieldError::new("/description", SHORT_TEXT_RULE));
    }
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECS);
    if ttl == 0 || ttl > MAX_TTL_SECS {
        errors.push(FieldError::new(
            "/ttl_seconds",
            format!("must be from 1 to {MAX_TTL_SECS} seconds (7 days); got {ttl}"),
        ));
    }
    let max_uses = body.max_uses.unwrap_or(1);
    if max_uses == 0 || max_uses > MAX_USES {
        errors.push(FieldError::new(
            "/max_uses",
            format!("must be from 1 to {MAX_USES}; got {max_uses}"),
        ));
    }
    errors.extend(labels::check("/labels", &body.labels));
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let (token, lookup) = opaque::new_token(REGISTRATION_TOKEN_PREFIX);
    let id = Uuid::new_v4();
    let actor = Actor::of(&ctx, &access.caller).await?;
    let labels_json = serde_json::to_value(&body.labels).map_err(anyhow::Error::from)?;
    let mut tx = ctx.db.begin().await?;
    // jsonb goes in as text (the workspace's sqlx has no `json` feature).
    let created = sqlx::query!(
        "INSERT INTO registration_tokens \
         (id, account_id, prefix, secret_hash, description, labels, max_uses, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, now() + make_interval(secs => $9)) \
         RETURNING created_at, expires_at",
        id,
        access.account_id,
        &lookup,
        &opaque::hash(&token)[..],
        description,
        labels_json.to_string(),
        max_uses as i32,
        access.caller.person(),
        ttl as f64,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (created_at, expires_at) = (created.created_at, created.expires_at);
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "registration-token.created",
        target: description,
        details: serde_json::json!({
            "id": id, "max_uses": max_uses, "expires_at": expires_at, "labels": labels_json,
        }),
    }
    .record(&mut tx)
    .await?;
    tx.commit().await?;
    let details = RegistrationToken {
        id,
        description: description.to_owned(),
        prefix: format!("{REGISTRATION_TOKEN_PREFIX}{lookup}"),
        labels: body.labels,
        max_uses: max_uses as i32,
        uses: 0,
        state: "active",
        created_at,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedRegistrationToken { token, details }),
    ))
}

/// A registration token's row, as `list` selects it.
struct Row {
    id: Uuid,
    description: String,
    prefix: String,
    /// The labels' JSON (jsonb read as text: the workspace's sqlx has no `json` feature).
    labels: String,
    max_uses: i32,
    uses: i32,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Lists the account's registration tokens, newest first (admins; never the secrets).
#[utoipa::path(get, path = "/api/v1/accounts/{account}/registration-tokens", operation_id = "list_registration_tokens", tag = "clusters",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The tokens, newest first", body = [RegistrationToken]),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<RegistrationToken>>, Error> {
    access.require(Role::Admin)?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, description, prefix, labels::text AS \"labels!\", max_uses, uses, \
                created_at, expires_at, last_used_at, revoked_at \
         FROM registration_tokens WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1000",
        access.account_id,
    )
    .fetch_all(&ctx.db)
    .await?;
    let now = Utc::now();
    Ok(Json(
        rows.into_iter()
            .map(
                |Row {
                     id,
                     description,
                     prefix,
                     labels,
                     max_uses,
                     uses,
                     created_at,
                     expires_at,
                     last_used_at,
                     revoked_at,
                 }| {
                    let state = if revoked_at.is_some() {
                        "revoked"
                    } else if expires_at <= now {
                        "expired"
                    } else if uses >= max_uses {
                        "used-up"
                    } else {
                        "active"
                    };
                    RegistrationToken {
                        id,
                        description,
                        prefix: format!("{REGISTRATION_TOKEN_PREFIX}{prefix}"),
                        labels: serde_json::from_str(&labels).unwrap_or_default(),
                        max_uses,
                        uses,
                        state,
                        created_at,
                        expires_at,
                        last_used_at,
                        revoked_at,
                    }
                },
            )
            .collect(),
    ))
}

/// Revokes a registration token at once (admins). Clusters it registered stay registered.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/registration-tokens/{id}", operation_id = "revoke_registration_token", tag = "clusters",
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
pub async fn revoke(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, Uuid)>,
) -> Result<StatusCode, Error> {
    let id = path.1;
    access.require(Role::Admin)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let description = sqlx::query_scalar!(
        "UPDATE registration_tokens SET revoked_at = coalesce(revoked_at, now()) \
         WHERE id = $1 AND account_id = $2 RETURNING description",
        id,
        access.account_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let description = description.ok_or_else(|| {
        Error::NotFound(format!(
            "Account {} has no registration token {id}.",
            access.account
        ))
    })?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "registration-token.revoked",
        target: &description,
        details: serde_json::json!({ "id": id }),
    }
    .record(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
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
    let row = sqlx::query!(
        "SELECT t.id, t.account_id, t.description, t.labels::text AS \"labels!\", \
                t.uses < t.max_uses AS \"uses_left!\", t.secret_hash \
         FROM registration_tokens t JOIN accounts a ON a.id = t.account_id \
         WHERE t.prefix = $1 AND a.name = $2 AND t.revoked_at IS NULL AND t.expires_at > now()",
        lookup,
        account,
    )
    .fetch_optional(db)
    .await?;
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
    let taken = sqlx::query!(
        "UPDATE registration_tokens SET uses = uses + 1, last_used_at = now() \
         WHERE id = $1 AND uses < max_uses AND revoked_at IS NULL AND expires_at > now()",
        id,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if taken == 0 {
        return Err(Error::Unauthorized(
            "The registration token has no registrations left.".into(),
        ));
    }
    Ok(())
}
