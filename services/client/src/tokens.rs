//! API tokens and registration tokens. The created ones carry their secret, shown once, as a
//! [`Secret`], which `Debug` never prints.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    Client, Error, CREATE_REGISTRATION_TOKEN, CREATE_TOKEN, LIST_REGISTRATION_TOKENS, LIST_TOKENS,
    REVOKE_REGISTRATION_TOKEN, REVOKE_TOKEN,
};

use crate::accounts::Role;

/// A created token's secret: serialised as it is (the person is shown it once), never printed
/// by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// An API token to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    /// What it is for (1-100 characters).
    pub name: String,
    /// Its role: at most the creator's.
    pub role: Role,
    /// When it stops working (RFC 3339): in the future, at most a year away.
    pub expires_at: String,
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Its id (for revoking).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The start of the token, to recognise it.
    pub prefix: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
    /// When it was last used, if ever.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<String>,
}

/// A created API token, with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    /// The token, with its secret.
    #[cfg_attr(feature = "contract", schema(value_type = String))]
    pub token: Secret,
    /// The token's details.
    #[serde(flatten)]
    pub details: ApiToken,
}

/// A registration token to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct NewRegistrationToken {
    /// What it is for (1-100 characters).
    pub description: String,
    /// Labels applied to every cluster it registers.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How many registrations it may make; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Seconds until it stops working; 3600 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// A registration token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct RegistrationToken {
    /// Its id (for revoking).
    pub id: String,
    /// What it is for.
    pub description: String,
    /// The start of the token, to recognise it.
    pub prefix: String,
    /// Labels it applies.
    pub labels: BTreeMap<String, String>,
    /// Registrations it may make.
    pub max_uses: i32,
    /// Registrations it made.
    pub uses: i32,
    /// `active`, `used-up`, `expired` or `revoked`.
    pub state: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
    /// When it last registered a cluster.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<String>,
}

/// A created registration token, with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct CreatedRegistrationToken {
    /// The token, with its secret.
    #[cfg_attr(feature = "contract", schema(value_type = String))]
    pub token: Secret,
    /// The token's details.
    #[serde(flatten)]
    pub details: RegistrationToken,
}

impl Client {
    /// The account's API tokens, without secrets.
    pub async fn list_tokens(&self, bearer: &str, account: &str) -> Result<Vec<ApiToken>, Error> {
        self.call(&LIST_TOKENS, &[account], bearer, None::<&()>)
            .await
    }

    /// Creates an API token; its secret is in the answer only.
    pub async fn create_token(
        &self,
        bearer: &str,
        account: &str,
        token: &NewApiToken,
    ) -> Result<CreatedApiToken, Error> {
        self.call(&CREATE_TOKEN, &[account], bearer, Some(token))
            .await
    }

    /// Revokes an API token.
    pub async fn revoke_token(&self, bearer: &str, account: &str, id: &str) -> Result<(), Error> {
        self.call_empty(&REVOKE_TOKEN, &[account, id], bearer, None::<&()>)
            .await
    }

    /// The account's registration tokens, without secrets.
    pub async fn list_registration_tokens(
        &self,
        bearer: &str,
        account: &str,
    ) -> Result<Vec<RegistrationToken>, Error> {
        self.call(&LIST_REGISTRATION_TOKENS, &[account], bearer, None::<&()>)
            .await
    }

    /// Creates a registration token; its secret is in the answer only.
    pub async fn create_registration_token(
        &self,
        bearer: &str,
        account: &str,
        token: &NewRegistrationToken,
    ) -> Result<CreatedRegistrationToken, Error> {
        self.call(&CREATE_REGISTRATION_TOKEN, &[account], bearer, Some(token))
            .await
    }

    /// Revokes a registration token.
    pub async fn revoke_registration_token(
        &self,
        bearer: &str,
        account: &str,
        id: &str,
    ) -> Result<(), Error> {
        self.call_empty(
            &REVOKE_REGISTRATION_TOKEN,
            &[account, id],
            bearer,
            None::<&()>,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_prints_its_secret_in_json_only() {
        let created: CreatedRegistrationToken = serde_json::from_value(serde_json::json!({
            "token": "flreg_0123456789ab_s3cr3t",
            "id": "7",
            "description": "eu",
            "prefix": "flreg_0123456789ab",
            "labels": {},
            "max_uses": 1,
            "uses": 0,
            "state": "active",
            "created_at": "2030-01-01T00:00:00Z",
            "expires_at": "2030-01-01T01:00:00Z",
        }))
        .expect("a created registration token");
        assert_eq!(created.token.expose(), "flreg_0123456789ab_s3cr3t");
        let debug = format!("{created:?}");
        assert!(
            !debug.contains("s3cr3t") && debug.contains("<secret>"),
            "{debug}"
        );
        let json = serde_json::to_value(&created).expect("JSON");
        assert_eq!(json["token"], "flreg_0123456789ab_s3cr3t");
    }
}
