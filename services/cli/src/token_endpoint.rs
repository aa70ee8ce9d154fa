//! Requests to Flotilla's token endpoint (`/oauth/token`), tried again while the server is
//! rate-limiting them (429, `temporarily_unavailable`): kubectl may start many
//! `flotilla exec-credential` at once, and a rate limit says "later", not "your log-in has
//! ended".

use std::time::Duration;

use flotilla_client::oauth::OAuthError;
use flotilla_client::{Client, Error};
use serde_json::Value;

use crate::error::{CliError, Result};

/// The waits before each new try when the server does not say how long (a proxy's 429):
/// Flotilla's token limit refills a request a second, so the first is usually enough.
const WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// The longest wait taken on the server's word: kubectl is waiting for an answer.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Waits this long or longer are said on stderr; shorter ones would only be noise in what
/// kubectl shows.
const SAID_FROM: Duration = Duration::from_secs(4);

/// Posts the token request `fields`; the JSON answer, or the OAuth error the server gave
/// (never a rate limit: that is waited out as the server's `Retry-After` says, a few times,
/// then reported as the server's trouble).
pub async fn post(api: &Client, fields: &[(&str, &str)]) -> Result<Result<Value, OAuthError>> {
    let mut waits = WAITS.iter();
    loop {
        let answer = api.form("/oauth/token", fields).await;
        let Some(asked) = rate_limited(&answer) else {
            return answer.map_err(CliError::from);
        };
        let Some(&fallback) = waits.next() else {
            return Err(CliError::Server(format!(
                "{} is limiting token requests from this address; try again in a minute",
                api.server()
            )));
        };
        let wait = asked.unwrap_or(fallback).min(LONGEST_WAIT);
        if wait >= SAID_FROM {
            eprintln!(
                "{} is limiting token requests; trying again in {} s.",
                api.server(),
                wait.as_secs()
            );
        }
        tokio::time::sleep(wait).await;
    }
}

/// When `answer` is the server (or a proxy before it) asking to come back later: how long
/// it asked to wait, if it said.
fn rate_limited(answer: &Result<Result<Value, OAuthError>, Error>) -> Option<Option<Duration>> {
    match answer {
        Ok(Err(e)) if e.code == "temporarily_unavailable" => Some(e.retry_after),
        Err(e) if e.status() == Some(429) => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(code: &str, retry_after: Option<u64>) -> Result<Result<Value, OAuthError>, Error> {
        Ok(Err(OAuthError {
            code: code.into(),
            description: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }))
    }

    fn unexpected(status: u16) -> Result<Result<Value, OAuthError>, Error> {
        Err(Error::Unexpected {
            server: "https://flotilla.example.com".into(),
            status,
            what: "a proxy's page".into(),
        })
    }

    #[test]
    fn only_a_rate_limit_is_tried_again_after_the_wait_it_asks() {
        assert_eq!(
            rate_limited(&oauth("temporarily_unavailable", Some(3))),
            Some(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            rate_limited(&oauth("temporarily_unavailable", None)),
            Some(None)
        );
        assert_eq!(rate_limited(&unexpected(429)), Some(None));
        assert_eq!(rate_limited(&oauth("invalid_grant", Some(3))), None);
        assert_eq!(rate_limited(&Ok(Ok(Value::Null))), None);
        assert_eq!(rate_limited(&unexpected(502)), None);
    }
}
