//! The read token exchange makes: who the person is in the account that holds the cluster
//! (`persons`, `memberships`, `accounts`, `clusters`).

use sqlx::PgConnection;
use uuid::Uuid;

/// A person as a member of an account, and whether that account has a given cluster.
pub struct ClusterMember {
    /// The person's email, if known.
    pub email: Option<String>,
    /// Whether the identity provider verified that email.
    pub email_verified: bool,
    /// The person's role in the account: `viewer`, `admin` or `owner`.
    pub role: String,
    /// The account has a cluster of the name asked about.
    pub cluster_exists: bool,
}

/// `person`'s membership of the account named `account`, and whether that account has a
/// cluster named `cluster`; `None` when the person is no member of it (or it does not exist).
pub async fn cluster_member(
    conn: &mut PgConnection,
    person: Uuid,
    account: &str,
    cluster: &str,
) -> sqlx::Result<Option<ClusterMember>> {
    // EXISTS is never NULL.
    sqlx::query_as!(
        ClusterMember,
        r#"SELECT p.email, p.email_verified, m.role,
                EXISTS (SELECT 1 FROM clusters c WHERE c.account_id = a.id AND c.name = $3) AS "cluster_exists!"
         FROM persons p JOIN memberships m ON m.person_id = p.id
         JOIN accounts a ON a.id = m.account_id
         WHERE p.id = $1 AND a.name = $2"#,
        person,
        account,
        cluster,
    )
    .fetch_optional(conn)
    .await
}
