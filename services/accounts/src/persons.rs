//! People, known by (issuer, subject): recorded at each log-in, when they also join every
//! account that invited their (verified) email.

use flotilla_core::audit::Origin;
use flotilla_core::auth::cache;
use flotilla_core::AppContext;
use uuid::Uuid;

use crate::error::Result;
use crate::upstream::Identity;

/// Records a log-in of `identity`; returns the person's id.
pub async fn log_in(ctx: &AppContext, identity: &Identity, origin: &Origin) -> Result<Uuid> {
    let mut tx = ctx.db.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO persons (id, issuer, subject, email, email_verified, name) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (issuer, subject) DO UPDATE SET email = excluded.email, \
         email_verified = excluded.email_verified, name = excluded.name, last_login_at = now() \
         RETURNING id",
        Uuid::new_v4(),
        identity.issuer,
        identity.subject,
        identity.email,
        identity.email_verified,
        identity.name,
    )
    .fetch_one(&mut *tx)
    .await?;
    // Only an email the provider vouches for may claim an invitation.
    if let (Some(email), true) = (&identity.email, identity.email_verified) {
        // Each account joined gets its audit entry, in the same statement. The address goes
        // in as text (`$4::text::inet`): the workspace's sqlx has no `inet` type.
        let joined = sqlx::query!(
            "WITH joined AS ( \
                INSERT INTO memberships (account_id, person_id, role) \
                SELECT account_id, $1, role FROM invitations WHERE email = $2 \
                ON CONFLICT DO NOTHING RETURNING account_id, role) \
             INSERT INTO audit_events \
                (account_id, action, actor_kind, actor_id, actor, target, details, request_id, source) \
             SELECT account_id, 'member.joined', 'person', $1, $2, $2, \
                    jsonb_build_object('role', role, 'through', 'invitation'), $3, $4::text::inet \
             FROM joined",
            id,
            email,
            origin.request_id,
            origin.source.map(|ip| ip.to_string()),
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if joined > 0 {
            sqlx::query!("DELETE FROM invitations WHERE email = $1", email)
                .execute(&mut *tx)
                .await?;
            cache::announce(&mut tx, "membership").await?;
            tracing::info!(person = %id, accounts = joined, "joined the accounts that invited them");
        }
    }
    tx.commit().await?;
    ctx.auth.forget("membership");
    Ok(id)
}
