//! Flotilla's token service (`/oauth/*`): form posts answered by JSON, whose refusals are
//! OAuth errors (`error`, `error_description`), not problem documents.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use crate::{Client, Error};

/// The CLI's public OAuth client.
pub const CLI_CLIENT_ID: &str = "flotilla-cli";

/// An OAuth error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_grant`, `authorization_pending`, ...
    pub code: String,
    /// The server's explanation.
    pub description: String,
    /// How long the server asked to wait before trying again (`Retry-After` in seconds,
    /// sent with `temporarily_unavailable`).
    pub retry_after: Option<Duration>,
}

impl Client {
    /// Posts an OAuth form to `path`; the JSON answer, or the OAuth error the server gave.
    pub async fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Result<Value, OAuthError>, Error> {
        let response = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        // Only the delta-seconds form: Flotilla never sends an HTTP date.
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = self.read(response).await?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(Ok(value));
        }
        match value["error"].as_str() {
            Some(code) => Ok(Err(OAuthError {
                code: code.to_owned(),
                description: value["error_description"].as_str().unwrap_or("").to_owned(),
                retry_after,
            })),
            None => Err(Error::Unexpected {
                server: self.server().to_owned(),
                status,
                what: format!("no OAuth answer to {path}; is it a Flotilla server?"),
            }),
        }
    }
}
