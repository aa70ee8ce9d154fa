//! Talking to Flotilla: JSON calls to the API with a bearer token, whose problem+json refusals
//! become one-line errors, and OAuth form posts to the token service.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::{CliError, Result};

/// The CLI's only public OAuth client.
pub const CLIENT_ID: &str = "flotilla-cli";

/// An HTTP client of one Flotilla server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    server: Url,
}

impl Api {
    /// A client of `server` (an http(s) URL).
    pub fn new(server: &str) -> Result<Api> {
        let server = parse_server(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("flotilla-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Local(format!("cannot start an HTTP client: {e}")))?;
        Ok(Api { http, server })
    }

    /// The server's URL, without a trailing slash (its issuer).
    pub fn server(&self) -> &str {
        self.server.as_str().trim_end_matches('/')
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server())
    }

    /// Sends `method path` with `bearer` and an optional JSON body; the JSON answer (`Null`
    /// for 204).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        check_path(path)?;
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|_| {
                CliError::Server(format!(
                    "{} answered {status} with something that is not JSON",
                    self.server()
                ))
            });
        }
        Err(refusal(status, &text))
    }

    /// Posts an OAuth form to `path`; the JSON answer, or the OAuth error (`error`,
    /// `error_description`) with its status.
    pub async fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Result<Value, OAuthError>> {
        let response = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(Ok(value));
        }
        match value["error"].as_str() {
            Some(code) => Ok(Err(OAuthError {
                code: code.to_owned(),
                description: value["error_description"].as_str().unwrap_or("").to_owned(),
            })),
            None if status.is_server_error() => Err(CliError::Server(format!(
                "{} failed ({status}); try again later",
                self.server()
            ))),
            None => Err(CliError::Server(format!(
                "{} answered {status} to {path}; is it a Flotilla server?",
                self.server()
            ))),
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        let why = if e.is_timeout() {
            "no answer in time".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            e.to_string()
        };
        CliError::Server(format!(
            "cannot reach {} ({why}); check --server and your network",
            self.server()
        ))
    }
}

/// An OAuth error answer.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// `invalid_grant`, `authorization_pending`, ...
    pub code: String,
    /// The server's explanation.
    pub description: String,
}

/// Checks that every segment of an API path (names and ids from the command line among them)
/// is a plain name, so none can climb to another path (`../tokens`) or add a query.
fn check_path(path: &str) -> Result<()> {
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.len() <= 253
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    match path.split('/').skip(1).find(|segment| !plain(segment)) {
        None => Ok(()),
        Some(bad) => Err(CliError::Usage(format!(
            "{bad:?} is not a valid name or id: they hold only letters, digits, '-', '_' and '.'"
        ))),
    }
}

/// Checks a server URL: http(s), a host, nothing else.
pub fn parse_server(server: &str) -> Result<Url> {
    let url = Url::parse(server.trim())
        .map_err(|e| CliError::Usage(format!("--server {server:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(CliError::Usage(format!(
            "--server must be an http:// or https:// URL, not {server:?}"
        )));
    }
    Ok(url)
}

/// The error a refused API call stands for, from its problem+json `detail`.
fn refusal(status: StatusCode, body: &str) -> CliError {
    let problem: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let mut detail = problem["detail"]
        .as_str()
        .or_else(|| problem["title"].as_str())
        .unwrap_or("")
        .to_owned();
    // A 422 lists what is wrong with each field.
    if let Some(errors) = problem["errors"].as_array() {
        let fields: Vec<String> = errors
            .iter()
            .filter_map(|e| {
                Some(format!(
                    "{}: {}",
                    e["field"].as_str()?,
                    e["message"].as_str()?
                ))
            })
            .collect();
        if !fields.is_empty() {
            detail = format!("{detail} ({})", fields.join("; "));
        }
    }
    if detail.is_empty() {
        detail = format!("the server answered {status}");
    }
    match status {
        StatusCode::UNAUTHORIZED => CliError::Auth(format!(
            "{detail} Run `flotilla configure` to log in again."
        )),
        StatusCode::FORBIDDEN => CliError::Auth(detail),
        s if s.is_server_error() => CliError::Server(format!(
            "{detail} (the server failed: {s}; try again later)"
        )),
        _ => CliError::Refused(detail),
    }
}
