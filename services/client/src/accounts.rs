//! The caller and their accounts.

use serde::{Deserialize, Serialize};

use crate::{Client, Error, ME};

/// A member's (or an API token's) role in an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads.
    Viewer,
    /// Also manages tokens, clusters and settings.
    Admin,
    /// Also manages members.
    Owner,
}

/// Who is calling, and their accounts and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct Me {
    /// The person, when the caller is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonSummary>,
    /// The API token's id, when the caller is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
    /// The caller's accounts and roles, by name.
    pub accounts: Vec<AccountRole>,
}

/// A person as shown to themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct PersonSummary {
    /// Their id.
    pub id: String,
    /// Their log-in email.
    #[serde(default)]
    pub email: Option<String>,
    /// Their display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// One account and the caller's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct AccountRole {
    /// The account's name.
    pub name: String,
    /// The caller's role.
    pub role: Role,
}

impl Client {
    /// `GET /api/v1/me`: the caller and their accounts.
    pub async fn me(&self, bearer: &str) -> Result<Me, Error> {
        self.call(&ME, &[], bearer, None::<&()>).await
    }
}
