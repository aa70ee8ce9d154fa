//! What the account tokens an admin creates have in common: API tokens (accounts service) and
//! registration tokens (clusters service). Each has a free-text label, a bounded lifetime, a
//! secret shown once and stored only as its SHA-256 beside a lookup prefix, an audit entry
//! when created and when revoked, and a revocation that answers 404 when the account has no
//! such token. Those rules live here once; each service keeps its table, its extra fields and
//! its wording of the lifetime rule.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{Actor, Entry, Origin};
use crate::auth::{opaque, AccountAccess};
use crate::error::Error;
use crate::names::{short_text, SHORT_TEXT_RULE};
use crate::problem::FieldError;
use crate::removal::Removal;

/// One kind of account token: how it is named to people and in the audit log, and how its
/// secrets start.
#[derive(Debug)]
pub struct TokenKind {
    /// How people call it, in messages: `API token`.
    pub noun: &'static str,
    /// The noun of its audit actions: `api-token` (`api-token.created`, `api-token.revoked`).
    pub audit_noun: &'static str,
    /// What every token of the kind starts with: `flt_`.
    pub prefix: &'static str,
}

/// A new token: what its creator sees once, and what the store keeps.
pub struct MintedToken {
    /// Its id.
    pub id: Uuid,
    /// The whole token with its secret: handed to the creator, never stored.
    pub token: String,
    /// The part after the prefix that finds the stored hash (unique, not secret).
    pub lookup: String,
    /// The SHA-256 of the whole token, to check a presented one against.
    pub secret_hash: Vec<u8>,
}

impl TokenKind {
    /// A new token of this kind, from the OS's random source.
    pub fn mint(&self) -> MintedToken {
        let (token, lookup) = opaque::new_token(self.prefix);
        MintedToken {
            id: Uuid::new_v4(),
            secret_hash: opaque::hash(&token),
            token,
            lookup,
        }
    }

    /// How a token is shown once its secret is gone (lists, the creation's details): its
    /// prefix and lookup part, enough to recognise it.
    pub fn shown_prefix(&self, lookup: &str) -> String {
        format!("{}{lookup}", self.prefix)
    }

    /// The audit entry of the creation of the token labelled `label`, in its transaction.
    pub async fn record_created(
        &self,
        conn: &mut PgConnection,
        access: &AccountAccess,
        actor: &Actor,
        origin: &Origin,
        label: &str,
        details: Value,
    ) -> Result<(), Error> {
        Entry {
            account_id: access.account_id,
            actor,
            origin,
            action: &format!("{}.created", self.audit_noun),
            target: label,
            details,
        }
        .record(conn)
        .await?;
        Ok(())
    }

    /// The end of a revocation of token `id`, in its transaction: `revoked` is what the
    /// store's revoke returned (the token's label, or nothing when the account has no such
    /// token, which is the caller's 404); otherwise the audit entry.
    pub async fn record_revoked(
        &self,
        conn: &mut PgConnection,
        access: &AccountAccess,
        actor: &Actor,
        origin: &Origin,
        id: Uuid,
        revoked: Option<String>,
    ) -> Result<(), Error> {
        let label = revoked
            .or_not_found(|| format!("Account {} has no {} {id}.", access.account, self.noun))?;
        Entry {
            account_id: access.account_id,
            actor,
            origin,
            action: &format!("{}.revoked", self.audit_noun),
            target: &label,
            details: serde_json::json!({ "id": id }),
        }
        .record(conn)
        .await?;
        Ok(())
    }
}

/// A token's label (an API token's name, a registration token's description), trimmed, or
/// the refusal of the field at `field`. The OpenAPI document states the same rule on each
/// such field (`maxLength` 100 and a pattern).
pub fn check_label<'a>(field: &str, text: &'a str) -> Result<&'a str, FieldError> {
    short_text(text).ok_or_else(|| FieldError::new(field, SHORT_TEXT_RULE))
}

/// Why a requested lifetime was refused; each kind words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeRefusal {
    /// The token would be dead on arrival.
    NotPositive,
    /// The token would outlive what its kind allows.
    TooLong,
}

/// A requested lifetime (`Duration::ZERO` for an expiry already past), if it is positive and
/// at most `longest`.
pub fn check_lifetime(requested: Duration, longest: Duration) -> Result<Duration, LifetimeRefusal> {
    if requested.is_zero() {
        Err(LifetimeRefusal::NotPositive)
    } else if requested > longest {
        Err(LifetimeRefusal::TooLong)
    } else {
        Ok(requested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: TokenKind = TokenKind {
        noun: "test token",
        audit_noun: "test-token",
        prefix: "flt_",
    };

    #[test]
    fn minted_tokens_are_found_by_their_lookup_and_checked_by_their_hash() {
        let minted = KIND.mint();
        assert_eq!(
            opaque::token_lookup(&minted.token, KIND.prefix),
            Some(&*minted.lookup)
        );
        assert_eq!(minted.secret_hash, opaque::hash(&minted.token));
        assert!(minted.token.starts_with(&KIND.shown_prefix(&minted.lookup)));
        assert_ne!(KIND.mint().token, minted.token);
    }

    #[test]
    fn labels_are_trimmed_or_refused_at_their_field() {
        assert_eq!(check_label("/name", "  ci  ").ok(), Some("ci"));
        let refused = check_label("/description", " ")
            .err()
            .map(|e| (e.field, e.message));
        assert_eq!(
            refused,
            Some(("/description".to_owned(), SHORT_TEXT_RULE.to_owned()))
        );
    }

    #[test]
    fn lifetimes_are_positive_and_bounded() {
        let day = Duration::from_secs(86_400);
        assert_eq!(
            check_lifetime(Duration::ZERO, day),
            Err(LifetimeRefusal::NotPositive)
        );
        assert_eq!(check_lifetime(day, day), Ok(day));
        assert_eq!(
            check_lifetime(day + Duration::from_nanos(1), day),
            Err(LifetimeRefusal::TooLong)
        );
    }
}
