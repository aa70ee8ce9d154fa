//! Members of an account: listed by any member; added (by log-in email) and removed by
//! owners. Someone added before their first log-in is an invitation until they log in with a
//! verified email. An account always keeps at least one owner.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::{commit_change, AccountAccess, Role};
use flotilla_core::{AppContext, Error as CoreError, Problem};
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

/// Lists the account's members and invitations.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/members", tag = "members",
    params(("account" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "Members and invitations", body = [Member]),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_members(
    State(ctx): State<AppContext>,
    access: AccountAccess,
) -> Result<Json<Vec<Member>>> {
    type Row = (
        Option<String>,
        Option<String>,
        String,
        bool,
        Option<Uuid>,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.email, p.name, m.role, false, p.id, m.created_at \
         FROM memberships m JOIN persons p ON p.id = m.person_id WHERE m.account_id = $1 \
         UNION ALL \
         SELECT email, NULL, role, true, NULL, created_at FROM invitations WHERE account_id = $1 \
         ORDER BY 1",
    )
    .bind(access.account_id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|(email, name, role, invited, person_id, since)| {
                Some(Member {
                    email,
                    name,
                    role: Role::parse(&role)?,
                    invited,
                    person_id,
                    since,
                })
            })
            .collect(),
    ))
}

/// Adds a member by log-in email (or changes their role); invites them if they have never
/// logged in.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/members", tag = "members",
    params(("account" = String, Path, description = "The account's name")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added, or invited until their first log-in", body = Member),
        (status = 403, description = "Only owners manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account that the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the account without an owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_member(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Json(body): Json<NewMember>,
) -> Result<(StatusCode, Json<Member>)> {
    access.require(Role::Owner)?;
    let email = parse_email(&body.email)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let mut tx = ctx.db.begin().await?;
    lock_account(&mut tx, access.account_id).await?;
    let persons: Vec<(Uuid, Option<String>)> =
        // Only an email its provider vouches for identifies a person; anyone else is invited.
        sqlx::query_as("SELECT id, name FROM persons WHERE email = $1 AND email_verified ORDER BY created_at")
            .bind(&email)
            .fetch_all(&mut *tx)
            .await?;
    let member = if persons.is_empty() {
        let since: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO invitations (account_id, email, role, invited_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, email) DO UPDATE SET role = excluded.role \
             RETURNING created_at",
        )
        .bind(access.account_id)
        .bind(&email)
        .bind(body.role.as_str())
        .bind(access.caller.person())
        .fetch_one(&mut *tx)
        .await?;
        Member {
            email: Some(email.clone()),
            name: None,
            role: body.role,
            invited: true,
            person_id: None,
            since,
        }
    } else {
        let mut since = Utc::now();
        for (id, _) in &persons {
            since = sqlx::query_scalar(
                "INSERT INTO memberships (account_id, person_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id, person_id) DO UPDATE SET role = excluded.role \
                 RETURNING created_at",
            )
            .bind(access.account_id)
            .bind(id)
            .bind(body.role.as_str())
            .fetch_one(&mut *tx)
            .await?;
        }
        let (id, name) = persons[0].clone();
        Member {
            email: Some(email.clone()),
            name,
            role: body.role,
            invited: false,
            person_id: Some(id),
            since,
        }
    };
    keep_an_owner(&mut tx, access.account_id).await?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: if member.invited {
            "member.invited"
        } else {
            "member.added"
        },
        target: &email,
        details: serde_json::json!({ "role": body.role }),
    }
    .record(&mut tx)
    .await?;
    commit_change(&ctx, tx, "membership").await?;
    tracing::info!(account = %access.account, role = %body.role, invited = member.invited, "member added");
    Ok((StatusCode::CREATED, Json(member)))
}

/// Removes a member (or an invitation) by log-in email.
#[utoipa::path(delete, path = "/api/v1/accounts/{account}/members/{email}", tag = "members",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("email" = String, Path, description = "The member's log-in email", max_length = 254,
            pattern = "^[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+@(localhost|[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*\\.[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)$"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Only owners manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or no such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the account without an owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_member(
    State(ctx): State<AppContext>,
    access: AccountAccess,
    origin: Origin,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode> {
    access.require(Role::Owner)?;
    let actor = Actor::of(&ctx, &access.caller).await?;
    let email = path.1;
    let email = parse_email(&email)?;
    let mut tx = ctx.db.begin().await?;
    lock_account(&mut tx, access.account_id).await?;
    let members = sqlx::query(
        "DELETE FROM memberships WHERE account_id = $1 \
         AND person_id IN (SELECT id FROM persons WHERE email = $2)",
    )
    .bind(access.account_id)
    .bind(&email)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let invitations = sqlx::query("DELETE FROM invitations WHERE account_id = $1 AND email = $2")
        .bind(access.account_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if members + invitations == 0 {
        return Err(
            CoreError::NotFound(format!("{email} is not a member of {}.", access.account)).into(),
        );
    }
    keep_an_owner(&mut tx, access.account_id).await?;
    Entry {
        account_id: access.account_id,
        actor: &actor,
        origin: &origin,
        action: "member.removed",
        target: &email,
        details: serde_json::json!({ "invitation_only": members == 0 }),
    }
    .record(&mut tx)
    .await?;
    commit_change(&ctx, tx, "membership").await?;
    tracing::info!(account = %access.account, "member removed");
    Ok(StatusCode::NO_CONTENT)
}

/// Serialises membership changes of one account, so two owners demoting each other at once
/// cannot both see the other as the remaining owner.
async fn lock_account(conn: &mut PgConnection, account: Uuid) -> Result<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(account)
        .execute(conn)
        .await?;
    Ok(())
}

async fn keep_an_owner(conn: &mut PgConnection, account: Uuid) -> Result<()> {
    let owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE account_id = $1 AND role = 'owner'",
    )
    .bind(account)
    .fetch_one(conn)
    .await?;
    if owners == 0 {
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
