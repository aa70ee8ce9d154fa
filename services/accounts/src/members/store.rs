//! The SQL of members and invitations: listing them, adding or re-roling one by email,
//! removing one, and the per-account lock and owner count that keep an owner. Each function
//! runs on the connection (or transaction) its caller passes.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A member or an invitation, as stored.
pub struct MemberRow {
    /// The log-in email (a person may have none).
    pub email: Option<String>,
    /// The display name (none for an invitation).
    pub name: Option<String>,
    /// The role, as stored (`owner`, `admin`, `viewer`).
    pub role: String,
    /// Whether this is an invitation.
    pub invited: bool,
    /// The person's id (none for an invitation).
    pub person_id: Option<Uuid>,
    /// When they joined or were invited.
    pub since: DateTime<Utc>,
}

/// A person who logged in with a verified email.
pub struct VerifiedPerson {
    /// Their id.
    pub id: Uuid,
    /// Their display name.
    pub name: Option<String>,
}

/// The members and invitations of `account`, by email.
pub async fn list(conn: &mut PgConnection, account: Uuid) -> Result<Vec<MemberRow>, sqlx::Error> {
    // A UNION's columns come from no table, so the macro cannot infer them: the membership
    // side's email and name may be null, the invitation side's name and id are; the rest are
    // NOT NULL on both sides.
    sqlx::query_as!(
        MemberRow,
        r#"SELECT p.email AS "email?", p.name AS "name?", m.role AS "role!", false AS "invited!",
                p.id AS "person_id?", m.created_at AS "since!"
         FROM memberships m JOIN persons p ON p.id = m.person_id WHERE m.account_id = $1
         UNION ALL
         SELECT email, NULL, role, true, NULL, created_at FROM invitations WHERE account_id = $1
         ORDER BY 1"#,
        account,
    )
    .fetch_all(conn)
    .await
}

/// The persons whose provider vouched for `email`, oldest first. Only such an email
/// identifies a person; anyone else is invited.
pub async fn verified_persons(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Vec<VerifiedPerson>, sqlx::Error> {
    sqlx::query_as!(
        VerifiedPerson,
        "SELECT id, name FROM persons WHERE email = $1 AND email_verified ORDER BY created_at",
        email,
    )
    .fetch_all(conn)
    .await
}

/// Invites `email` to `account` as `role` (or changes the role of its invitation); returns
/// when it was first invited.
pub async fn upsert_invitation(
    conn: &mut PgConnection,
    account: Uuid,
    email: &str,
    role: &str,
    invited_by: Option<Uuid>,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO invitations (account_id, email, role, invited_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, email) DO UPDATE SET role = excluded.role \
         RETURNING created_at",
        account,
        email,
        role,
        invited_by,
    )
    .fetch_one(conn)
    .await
}

/// Makes `person` a member of `account` as `role` (or changes their role); returns when they
/// joined.
pub async fn upsert_membership(
    conn: &mut PgConnection,
    account: Uuid,
    person: Uuid,
    role: &str,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO memberships (account_id, person_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, person_id) DO UPDATE SET role = excluded.role \
         RETURNING created_at",
        account,
        person,
        role,
    )
    .fetch_one(conn)
    .await
}

/// Removes every person with log-in `email` from `account`; returns how many.
pub async fn delete_memberships(
    conn: &mut PgConnection,
    account: Uuid,
    email: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM memberships WHERE account_id = $1 \
         AND person_id IN (SELECT id FROM persons WHERE email = $2)",
        account,
        email,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Withdraws the invitation of `email` to `account`; returns how many (0 or 1).
pub async fn delete_invitation(
    conn: &mut PgConnection,
    account: Uuid,
    email: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM invitations WHERE account_id = $1 AND email = $2",
        account,
        email,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Serialises membership changes of one account, so two owners demoting each other at once
/// cannot both see the other as the remaining owner. Held until the transaction ends.
pub async fn lock_account(conn: &mut PgConnection, account: Uuid) -> Result<(), sqlx::Error> {
    // The macro needs a name for the selected column, and its rows are fetched (and
    // dropped) rather than executed: either way the whole statement runs and locks the row.
    sqlx::query!(
        "SELECT 1 AS locked FROM accounts WHERE id = $1 FOR UPDATE",
        account
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// How many owners `account` has.
pub async fn count_owners(conn: &mut PgConnection, account: Uuid) -> Result<i64, sqlx::Error> {
    // count(*) is never null.
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM memberships WHERE account_id = $1 AND role = 'owner'"#,
        account,
    )
    .fetch_one(conn)
    .await
}

/// Whether `person` belongs to any account.
pub async fn has_any(conn: &mut PgConnection, person: Uuid) -> Result<bool, sqlx::Error> {
    // EXISTS is never null.
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM memberships WHERE person_id = $1) AS "exists!""#,
        person,
    )
    .fetch_one(conn)
    .await
}
