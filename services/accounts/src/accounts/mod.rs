//! Accounts: sign-up (`POST /api/v1/accounts`, and the `/signup` page), reading one and
//! changing its settings, and `GET /api/v1/me`, the caller's accounts and roles.
//!
//! This module holds the types and what each operation means (its transaction and audit
//! entry); `store` holds the SQL and `handlers` the HTTP side.

mod handlers;
pub mod store;

// `lib.rs` registers the handlers (with utoipa's `__path_*` items) as `accounts::<handler>`.
pub use handlers::*;

use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::credentials::profile;
use flotilla_core::auth::{commit_change, AccountAccess, Caller, Principal, Role};
use flotilla_core::names::AccountName;
use flotilla_core::{AppContext, Error as CoreError};
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
    let created = store::insert_account(&mut tx, id, name.as_str(), person).await;
    let created_at = match created {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("accounts_name_key") => {
            return Err(CoreError::Conflict(format!(
                "The account name {name:?} is taken; choose another."
            ))
            .into())
        }
        other => other?,
    };
    store::insert_owner(&mut tx, id, person).await?;
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

/// The account `access` reaches, as the caller sees it.
async fn read_account(ctx: &AppContext, access: AccountAccess) -> Result<Account> {
    let row = store::find_account(&mut *ctx.db.acquire().await?, access.account_id)
        .await?
        .ok_or_else(|| flotilla_core::auth::no_such_account(&access.account))?;
    Ok(Account {
        domain: format!("{}.{}", access.account, ctx.config.dns_base_domain),
        name: access.account,
        role: access.role,
        created_at: row.created_at,
        publish_spiffe_bundles: row.publish_spiffe_bundles,
        dns_ttl: row.dns_ttl,
    })
}

/// Applies `settings` (already checked) to the account, with an audit entry of what
/// changed (none when nothing did); returns the account as it now is.
async fn change_settings(
    ctx: &AppContext,
    access: AccountAccess,
    origin: &Origin,
    settings: &AccountSettings,
) -> Result<Account> {
    let actor = Actor::of(ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    let changed = store::update_settings(
        &mut tx,
        access.account_id,
        settings.publish_spiffe_bundles,
        settings.dns_ttl.map(|t| t as i32),
    )
    .await?;
    if let Some(change) = changed {
        let mut details = serde_json::Map::new();
        if change.publish_changed {
            details.insert(
                "publish_spiffe_bundles".into(),
                settings.publish_spiffe_bundles.into(),
            );
        }
        if let Some(ttl) = change.dns_ttl {
            details.insert("dns_ttl".into(), ttl.into());
        }
        Entry {
            account_id: access.account_id,
            actor: &actor,
            origin,
            action: "account.settings-changed",
            target: &access.account,
            details: details.into(),
        }
        .record(&mut tx)
        .await?;
    }
    tx.commit().await?;
    read_account(ctx, access).await
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

impl Me {
    /// The caller as they see themselves: a person's profile and memberships, or an API
    /// token's one account.
    pub async fn of(ctx: &AppContext, caller: &Caller) -> Result<Self> {
        Ok(match &caller.principal {
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
        })
    }
}
