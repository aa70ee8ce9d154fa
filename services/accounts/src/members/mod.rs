//! Members of an account: listed by any member; added (by log-in email) and removed by
//! owners. Someone added before their first log-in is an invitation until they log in with a
//! verified email. An account always keeps at least one owner.
//!
//! This module holds the types and what each change means (its lock, owner check and audit
//! entry); `store` holds the SQL and `handlers` the HTTP side.

mod handlers;
pub mod responses;
pub mod store;

// `lib.rs` registers the handlers (with utoipa's `__path_*` items) as `members::<handler>`.
pub use handlers::*;

use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::{commit_change, AccountAccess, Role};
use flotilla_core::removal::Removal;
use flotilla_core::{AppContext, Error as CoreError};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

/// A member, or an invitation not yet taken up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// Their log-in email.
    pub email: Option<String>,
    /// Their display name (none while invited).
    pub name: Option<String>,
    /// Their role.
    pub role: Role,
    /// `true` until they first log in.
    pub invited: bool,
    /// The person's id, once they have logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    /// When they joined or were invited.
    pub since: DateTime<Utc>,
}

/// Adding a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Their log-in email.
    #[schema(
        example = "ada@example.com",
        max_length = 254,
        pattern = "^[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+@(localhost|[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*\\.[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)$"
    )]
    pub email: String,
    /// Their role.
    pub role: Role,
}

/// The account's members and invitations, by email.
async fn list(ctx: &AppContext, account: Uuid) -> Result<Vec<Member>> {
    let rows = store::list(&mut *ctx.db.acquire().await?, account).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Member {
                email: row.email,
                name: row.name,
                role: Role::parse(&row.role)?,
                invited: row.invited,
                person_id: row.person_id,
                since: row.since,
            })
        })
        .collect())
}

/// Adds `email` (already parsed) to the account as `role`, or changes their role: every
/// person who logged in with it as a verified email joins; otherwise it is invited.
async fn add(
    ctx: &AppContext,
    access: &AccountAccess,
    origin: &Origin,
    email: String,
    role: Role,
) -> Result<Member> {
    let actor = Actor::of(ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    store::lock_account(&mut tx, access.account_id).await?;
    let persons = store::verified_persons(&mut tx, &email).await?;
    let member = if persons.is_empty() {
        let since = store::upsert_invitation(
            &mut tx,
            access.account_id,
            &email,
            role.as_str(),
            access.caller.person(),
        )
        .await?;
        Member {
            email: Some(email.clone()),
            name: None,
            role,
            invited: true,
            person_id: None,
            since,
        }
    } else {
        let mut since = Utc::now();
        for person in &persons {
            since = store::upsert_membership(&mut tx, access.account_id, person.id, role.as_str())
                .await?;
        }
        let first = &persons[0];
        Member {
            email: Some(email.clone()),
            name: first.name.clone(),
            role,
            invited: false,
            person_id: Some(first.id),
            since,
        }
    };
    keep_an_owner(&mut tx, access.account_id).await?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin,
        action: if member.invited {
            "member.invited"
        } else {
            "member.added"
        },
        target: &email,
        details: serde_json::json!({ "role": role }),
    }
    .record(&mut tx)
    .await?;
    commit_change(ctx, tx, "membership").await?;
    tracing::info!(account = %access.account, role = %role, invited = member.invited, "member added");
    Ok(member)
}

/// Removes `email` (already parsed) from the account: its members and its invitation.
async fn remove(
    ctx: &AppContext,
    access: &AccountAccess,
    origin: &Origin,
    email: &str,
) -> Result<()> {
    let actor = Actor::of(ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    store::lock_account(&mut tx, access.account_id).await?;
    let members = store::delete_memberships(&mut tx, access.account_id, email).await?;
    let invitations = store::delete_invitation(&mut tx, access.account_id, email).await?;
    (members + invitations)
        .or_not_found(|| format!("{email} is not a member of {}.", access.account))?;
    keep_an_owner(&mut tx, access.account_id).await?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin,
        action: "member.removed",
        target: email,
        details: serde_json::json!({ "invitation_only": members == 0 }),
    }
    .record(&mut tx)
    .await?;
    commit_change(ctx, tx, "membership").await?;
    tracing::info!(account = %access.account, "member removed");
    Ok(())
}

/// Fails the change (before it commits) when it would leave `account` without an owner.
async fn keep_an_owner(conn: &mut PgConnection, account: Uuid) -> Result<()> {
    if store::count_owners(conn, account).await? == 0 {
        return Err(CoreError::Conflict(
            "An account needs at least one owner: make someone else owner first.".into(),
        )
        .into());
    }
    Ok(())
}

fn parse_email(value: &str) -> Result<String> {
    // The same rule as `NewMember::email`'s pattern in the OpenAPI document.
    let plain = |part: &str| {
        !part.is_empty()
            && !part
                .chars()
                .any(|c| c == '@' || c.is_whitespace() || c.is_control())
    };
    let valid = value.chars().count() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            plain(local) && plain(domain) && (domain.contains('.') || domain == "localhost")
        });
    if valid {
        Ok(value.to_lowercase())
    } else {
        Err(Error::invalid(
            "/email",
            "must be an email address such as ada@example.com",
        ))
    }
}
