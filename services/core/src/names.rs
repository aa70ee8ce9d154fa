//! Validated names. Accounts and clusters are DNS labels, because an account becomes
//! `<account>.<base-domain>` and a cluster a SPIFFE trust domain; parsing them once at the edge
//! means the rest of the code never sees an unchecked string.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Account names that would collide with Flotilla's own hosts or mislead people.
pub const RESERVED_ACCOUNT_NAMES: &[&str] = &[
    "www",
    "api",
    "admin",
    "mail",
    "app",
    "auth",
    "login",
    "console",
    "docs",
    "status",
    "support",
    "help",
    "root",
    "system",
    "flotilla",
    "ns",
    "ns1",
    "ns2",
    "smtp",
    "imap",
    "ftp",
    "localhost",
];

/// Whether `s` is a DNS label as Flotilla uses them: 1-63 characters of `a-z`, `0-9` and `-`,
/// neither starting nor ending with `-`.
pub fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Longest free-text name or description of a token.
pub const MAX_TEXT_CHARS: usize = 100;
/// What [`short_text`] asks for, in words.
pub const SHORT_TEXT_RULE: &str = "must be 1-100 characters, without control characters";

/// A free-text name or description (of an API token, a registration token): at most 100
/// characters, none of them a control character, not only spaces; trimmed. The OpenAPI
/// document states the same rule (`maxLength` 100 and a pattern) on each such field.
pub fn short_text(value: &str) -> Option<&str> {
    let trimmed = value.trim();
    let fits = value.chars().count() <= MAX_TEXT_CHARS && !value.chars().any(char::is_control);
    (fits && !trimmed.is_empty()).then_some(trimmed)
}

/// Why a name was refused, in words meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty input.
    #[error("must not be empty")]
    Empty,
    /// Longer than a DNS label may be.
    #[error("must be at most 63 characters (got {0})")]
    TooLong(usize),
    /// Upper-case letters, which DNS would fold silently.
    #[error("must be lower case")]
    UpperCase,
    /// Characters outside `a-z0-9-`.
    #[error("may contain only a-z, 0-9 and '-'")]
    BadCharacter,
    /// A leading or trailing hyphen.
    #[error("must start and end with a letter or a digit")]
    EdgeHyphen,
    /// A name kept for Flotilla itself.
    #[error("'{0}' is reserved")]
    Reserved(String),
}

fn check_label(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s.len() > 63 {
        return Err(NameError::TooLong(s.chars().count()));
    }
    if s.chars().any(|c| c.is_uppercase()) {
        return Err(NameError::UpperCase);
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(NameError::BadCharacter);
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(NameError::EdgeHyphen);
    }
    Ok(())
}

macro_rules! label_newtype {
    ($(#[$doc:meta])* $name:ident, $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses a name, saying what is wrong with it when it is refused.
            pub fn parse(s: &str) -> Result<Self, NameError> {
                check_label(s)?;
                let extra: fn(&str) -> Result<(), NameError> = $extra;
                extra(s)?;
                Ok(Self(s.to_owned()))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

label_newtype!(
    /// An account name: a DNS label that is not reserved.
    AccountName,
    |s| {
        if RESERVED_ACCOUNT_NAMES.contains(&s) {
            Err(NameError::Reserved(s.to_owned()))
        } else {
            Ok(())
        }
    }
);

label_newtype!(
    /// A cluster name: a DNS label, unique within its account.
    ClusterName,
    |_| Ok(())
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["a", "acme", "acme-2", "0", "a".repeat(63).as_str()] {
            assert!(AccountName::parse(ok).is_ok(), "{ok}");
            assert!(is_dns_label(ok));
        }
    }

    #[test]
    fn refuses_with_the_reason() {
        assert_eq!(AccountName::parse(""), Err(NameError::Empty));
        assert_eq!(
            AccountName::parse(&"a".repeat(64)),
            Err(NameError::TooLong(64))
        );
        assert_eq!(AccountName::parse("Acme"), Err(NameError::UpperCase));
        assert_eq!(AccountName::parse("ac_me"), Err(NameError::BadCharacter));
        assert_eq!(AccountName::parse("ac.me"), Err(NameError::BadCharacter));
        assert_eq!(AccountName::parse("-acme"), Err(NameError::EdgeHyphen));
        assert_eq!(AccountName::parse("acme-"), Err(NameError::EdgeHyphen));
        assert_eq!(
            AccountName::parse("www"),
            Err(NameError::Reserved("www".into()))
        );
        assert!(
            ClusterName::parse("www").is_ok(),
            "reserved only for accounts"
        );
        assert!(!is_dns_label("é"));
    }

    #[test]
    fn deserializing_validates() {
        let e = serde_json::from_str::<AccountName>("\"Bad\"").unwrap_err();
        assert!(e.to_string().contains("lower case"));
        let n: AccountName = serde_json::from_str("\"acme\"").expect("valid");
        assert_eq!(n.as_str(), "acme");
    }
}
