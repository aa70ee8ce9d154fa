//! Accounts: sign-up (`POST /api/v1/accounts`, and the `/signup` page), reading one, and
//! `GET /api/v1/me`, the caller's accounts and roles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::credentials::profile;
use flotilla_core::auth::{commit_change, AccountAccess, Caller, Principal, Role};
use flotilla_core::names::AccountName;
use flotilla_core::{AppContext, Error as CoreError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

/// A sign-up: the account name to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// A DNS label, since it becomes `<account>.<base-domain>`.
    #[schema(example = "acme")]
    pub name: String,
}

/// An account as its members see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    /// The account's name.
    pub name: String,
    /// Its DNS zone: `<account>.<base-domain>`.
    pub domain: String,
    /// The caller's role in it.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether its clusters' SPIFFE bundles are served publicly, for SPIFFE federation, at
    /// `/spiffe/{account}/{cluster}/bundle`.
    pub publish_spiffe_bundles: bool,
    /// TTL in seconds of every DNS record of the account's hosts.
    pub dns_ttl: i32,
}

/// Settings to change; members left out keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Serve the clusters' SPIFFE bundles publicly (no authentication, per the SPIFFE
    /// Federation `https_web` profile) at `/spiffe/{account}/{cluster}/bundle`. Off by default.
    #[serde(default)]
    pub publish_spiffe_bundles: Option<bool>,
    /// TTL in seconds of every DNS record of the account's hosts, 1-86400 (default 1: a
    /// failover reaches clients as soon as the provider has it).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86400)]
    pub dns_ttl: Option<i64>,
}

/// Longest DNS TTL an account may set (a day).
pub const MAX_DNS_TTL: i64 = 86_400;

/// Creates the account `name` with `person` as its owner.
pub async fn create_account(
    ctx: &AppContext,
    person: Uuid,
    name: &str,
    origin: &Origin,
) -> Result<Account> {
    let name = AccountName::parse(name).map_err(|e| Error::invalid("/name", e.to_string()))?;
    let actor = Actor::person(ctx, person).await?;
    let mut tx = ctx.db.begin().await?;
    let id = Uuid::new_v4();
    let created: Result<DateTime<Utc>, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO accounts (id, name, created_by) VALUES ($1, $2, $3) RETURNING created_at",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(person)
    .fetch_one(&mut *tx)
    .await;
    let created_at = match created {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("accounts_name_key") => {
            return Err(CoreError::Conflict(format!(
                "The account name {name:?} is taken; choose another."
            ))
            .into())
        }
        other => other?,
    };
    sqlx::query("INSERT INTO memberships (account_id, person_id, role) VALUES ($1, $2, 'owner')")
        .bind(id)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    Entry {
        account_id: id,
        actor: &actor,
        origin,
        action: "account.created",
        target: name.as_str(),
        details: serde_json::json!({ "owner": actor.label }),
    }
    .record(&mut tx)
    .await?;
    commit_change(ctx, tx, "membership").await?;
    tracing::info!(account = %name, person = %person, "account created");
    Ok(Account {
        domain: format!("{name}.{}", ctx.config.dns_base_domain),
        name: name.to_string(),
        role: Role::Owner,
        created_at,
        publish_spiffe_bundles: false,
        dns_ttl: 1,
    })
}

/// Signs up: creates an account owned by the caller.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = Account),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token cannot sign up, or a cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid account name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn sign_up(
    State(ctx): State<AppContext>,
    caller: Caller,
    origin: Origin,
    Json(body): Json<NewAccount>,
) -> Result<(StatusCode, Json<Account>)> {
    let person = caller.require_person()?;
    let account = create_account(&ctx, person, &body.name, &origin).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Reads an account the caller belongs to.
#[utoipa::path(get, path = "/api/v1/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_account(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Account>> {
    Ok(Json(read_account(&ctx, access).await?))
}

async fn read_account(ctx: &AppContext, access: AccountAccess) -> Result<Account> {
    let (created_at, publish_spiffe_bundles, dns_ttl): (DateTime<Utc>, bool, i32) = sqlx::query_as(
        "SELECT created_at, publish_spiffe_bundles, dns_ttl FROM accounts WHERE id = $1",
    )
    .bind(access.account_id)
    .fetch_optional(&ctx.db)
    .await?
    .ok_or_else(|| flotilla_core::auth::no_such_account(&access.account))?;
    Ok(Account {
        domain: format!("{}.{}", access.account, ctx.config.dns_base_domain),
        name: access.account,
        role: access.role,
        created_at,
        publish_spiffe_bundles,
        dns_ttl,
    })
}

/// Changes the account's settings (admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{account}", tag = "accounts",
    params(("account" = String, Path, description = "The account's name")),
    request_body = AccountSettings,
    responses(
        (status = 200, description = "The account with its new settings", body = Account),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown setting or a wrong type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_settings(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(settings): Json<AccountSettings>,
) -> Result<Json<Account>> {
    access.require(Role::Admin)?;
    if let Some(ttl) = settings.dns_ttl {
        if !(1..=MAX_DNS_TTL).contains(&ttl) {
            return Err(CoreError::invalid(
                "/dns_ttl",
                format!("must be from 1 to {MAX_DNS_TTL} seconds (got {ttl})"),
            )
            .into());
        }
    }
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    // One statement; it returns the settings it changed (none when nothing differs). A new
    // TTL re-plans the account's DNS through a trigger, in this transaction.
    let changed: Option<(bool, Option<i32>)> = sqlx::query_as(
        "WITH old AS (SELECT publish_spiffe_bundles, dns_ttl FROM accounts WHERE id = $1 FOR UPDATE) \
         UPDATE accounts a SET publish_spiffe_bundles = COALESCE($2, a.publish_spiffe_bundles), \
             dns_ttl = COALESCE($3, a.dns_ttl) FROM old \
         WHERE a.id = $1 AND (a.publish_spiffe_bundles, a.dns_ttl) \
             IS DISTINCT FROM (COALESCE($2, a.publish_spiffe_bundles), COALESCE($3, a.dns_ttl)) \
         RETURNING a.publish_spiffe_bundles <> old.publish_spiffe_bundles, \
                   NULLIF(a.dns_ttl, old.dns_ttl)",
    )
    .bind(access.account_id)
    .bind(settings.publish_spiffe_bundles)
    .bind(settings.dns_ttl.map(|t| t as i32))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((publish_changed, ttl)) = changed {
        let mut details = serde_json::Map::new();
        if publish_changed {
            details.insert(
                "publish_spiffe_bundles".into(),
                settings.publish_spiffe_bundles.into(),
            );
        }
        if let Some(ttl) = ttl {
            details.insert("dns_ttl".into(), ttl.into());
        }
        Entry {
            account_id: access.account_id,
            actor: &actor,
            origin: &origin,
            action: "account.settings-changed",
            target: &access.account,
            details: details.into(),
        }
        .record(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Json(read_account(&ctx, access).await?))
}

/// Who is calling, and their accounts and roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The person, when the caller is one (a session or an access token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonSummary>,
    /// The API token's id, when the caller is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Uuid>,
    /// The caller's accounts and roles, by name.
    pub accounts: Vec<AccountRole>,
}

/// A person as shown to themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonSummary {
    /// Their id.
    pub id: Uuid,
    /// Their log-in email.
    pub email: Option<String>,
    /// Their display name.
    pub name: Option<String>,
}

/// One account and the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountRole {
    /// The account's name.
    pub name: String,
    /// The caller's role.
    pub role: Role,
}

/// The caller: their person (or API token) and their accounts and roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn me(State(ctx): State<AppContext>, caller: Caller) -> Result<Json<Me>> {
    let me = match &caller.principal {
        Principal::Person { id, .. } => {
            let found = profile(&ctx.auth, &ctx.db, *id).await?;
            Me {
                person: Some(PersonSummary {
                    id: found.id,
                    email: found.email.clone(),
                    name: found.name.clone(),
                }),
                api_token: None,
                accounts: found
                    .memberships
                    .iter()
                    .map(|m| AccountRole {
                        name: m.account.clone(),
                        role: m.role,
                    })
                    .collect(),
            }
        }
        Principal::ApiToken {
            id, account, role, ..
        } => Me {
            person: None,
            api_token: Some(*id),
            accounts: vec![AccountRole {
                name: account.clone(),
                role: *role,
            }],
        },
    };
    Ok(Json(me))
}
