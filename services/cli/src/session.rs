//! A logged-in session: the saved server, account and tokens, with the access token refreshed
//! silently when it is about to expire. Refreshes happen under the home's lock, after reading
//! the tokens again: the refresh token is single use, and presenting one another process has
//! already used revokes the whole log-in.

use chrono::Utc;
use flotilla_client::Client;
use serde_json::Value;

use crate::api::{self, CLIENT_ID};
use crate::error::{CliError, Result};
use crate::store::{Credentials, Home, HomeLock, Settings};
use crate::token_endpoint;

/// Refresh when the access token has less than this left (seconds).
const REFRESH_MARGIN: i64 = 60;

/// The saved log-in, ready to call the API.
pub struct Session {
    /// The CLI's directory.
    home: Home,
    /// The server and account.
    settings: Settings,
    /// The server's API.
    pub api: Client,
    credentials: Credentials,
}

impl Session {
    /// The saved session; `account` overrides the saved account.
    pub fn load(account: Option<&str>) -> Result<Session> {
        let home = Home::locate()?;
        let mut settings = home.settings()?.ok_or_else(CliError::not_logged_in)?;
        let credentials = home.credentials()?.ok_or_else(CliError::not_logged_in)?;
        if let Some(account) = account {
            settings.account = account.to_owned();
        }
        let api = api::client(&settings.server)?;
        Ok(Session {
            home,
            settings,
            api,
            credentials,
        })
    }

    /// A valid access token, refreshed first if it is about to expire.
    pub async fn access_token(&mut self) -> Result<String> {
        if self.fresh() {
            return Ok(self.credentials.access_token.clone());
        }
        let lock = self.home.lock()?;
        self.access_token_locked(&lock).await
    }

    /// A valid access token, with the home's lock held: the tokens are read again, since the
    /// process that held the lock before may have just refreshed them, and refreshed only if
    /// they still need it.
    pub async fn access_token_locked(&mut self, lock: &HomeLock) -> Result<String> {
        self.credentials = self
            .home
            .credentials()?
            .ok_or_else(CliError::not_logged_in)?;
        if self.fresh() {
            return Ok(self.credentials.access_token.clone());
        }
        let refresh = self.credentials.refresh_token.clone();
        let answer = token_endpoint::post(
            &self.api,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("refresh_token", &refresh),
            ],
        )
        .await?;
        let tokens = answer.map_err(|e| {
            CliError::Auth(format!(
                "your log-in has ended ({}): run `flotilla configure`",
                e.description.trim_end_matches('.')
            ))
        })?;
        self.credentials = credentials_from(&tokens)?;
        self.home.save_credentials(&self.credentials, lock)?;
        Ok(self.credentials.access_token.clone())
    }

    /// Whether the access token has more than the margin left.
    fn fresh(&self) -> bool {
        self.credentials.expires_at - Utc::now().timestamp() > REFRESH_MARGIN
    }

    /// When the current access token expires (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.credentials.expires_at
    }

    /// The CLI's directory.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The account worked on.
    pub fn account(&self) -> &str {
        &self.settings.account
    }
}

/// The credentials of a token answer.
pub fn credentials_from(tokens: &Value) -> Result<Credentials> {
    let field = |name: &str| {
        tokens[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CliError::Server(format!("the token answer has no {name}")))
    };
    Ok(Credentials {
        access_token: field("access_token")?,
        refresh_token: field("refresh_token")?,
        expires_at: expires_at(tokens),
    })
}

/// Longest lifetime believed of a token answer's `expires_in` (a day): a larger or absurd
/// figure from the server must not keep a token in use, or overflow the sum.
const LONGEST_LIFETIME: i64 = 86_400;

/// When the token of a token answer expires (Unix seconds): now plus its `expires_in`, which
/// is taken as 0 when absent and as at most a day.
pub fn expires_at(tokens: &Value) -> i64 {
    let expires_in = tokens["expires_in"].as_i64().unwrap_or(0);
    Utc::now().timestamp() + expires_in.clamp(0, LONGEST_LIFETIME)
}
