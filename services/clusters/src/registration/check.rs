//! Checking a registration before anything is stored: the certificates, the server URL,
//! the labels (and a registration token's labels over them) and the agent version, each
//! problem named against its field.

use chrono::Utc;
use flotilla_core::{Error, FieldError};

use super::ClusterRegistration;
use crate::certificates::{self, CaCertificate};
use crate::labels::{self, Labels};

/// Longest server URL.
const MAX_SERVER_LEN: usize = 2048;

/// The registration, checked.
pub struct Checked {
    /// The identity CA.
    pub identity: CaCertificate,
    /// The API server's URL, trimmed.
    pub server: String,
    /// The CA that verifies the API server.
    pub server_ca: CaCertificate,
    /// The labels asked for (the handler puts a registration token's over them); `None`
    /// keeps the current ones.
    pub labels: Option<Labels>,
    /// The agent's version; `None` keeps the last reported one.
    pub agent_version: Option<String>,
}

/// The registration in `body`, or every problem with it (`dev`: development mode, where an
/// `http` server is accepted).
pub fn check(body: ClusterRegistration, dev: bool) -> Result<Checked, Error> {
    let now = Utc::now();
    let mut errors = Vec::new();
    let identity = certificates::parse_ca_pem(&body.identity_ca, now)
        .map_err(|e| errors.push(FieldError::new("/identity_ca", format!("identity_ca {e}"))))
        .ok();
    let server_ca = match &body.server_ca {
        Some(pem) => certificates::parse_ca_pem(pem, now)
            .map_err(|e| errors.push(FieldError::new("/server_ca", format!("server_ca {e}"))))
            .ok(),
        None => identity.clone(),
    };
    if let Err(e) = check_server(&body.server, dev) {
        errors.push(FieldError::new("/server", e));
    }
    if let Some(labels) = &body.labels {
        errors.extend(labels::check("/labels", labels));
    }
    if let Some(version) = &body.agent_version {
        if let Err(e) = check_agent_version(version) {
            errors.push(FieldError::new("/agent_version", e));
        }
    }
    match (identity, server_ca) {
        (Some(identity), Some(server_ca)) if errors.is_empty() => Ok(Checked {
            identity,
            server: body.server.trim().to_owned(),
            server_ca,
            labels: body.labels,
            agent_version: body.agent_version,
        }),
        _ => Err(Error::Validation(errors)),
    }
}

fn check_server(server: &str, dev: bool) -> Result<(), String> {
    let server = server.trim();
    if server.len() > MAX_SERVER_LEN {
        return Err(format!("must be at most {MAX_SERVER_LEN} characters"));
    }
    let url = url::Url::parse(server).map_err(|e| format!("is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if dev => {}
        "http" => return Err("must use https (http is accepted only in development mode)".into()),
        other => return Err(format!("must be an https URL, not {other}:")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(())
}

/// An agent version: 1-64 printable ASCII characters.
pub fn check_agent_version(version: &str) -> Result<(), String> {
    if version.is_empty() || version.len() > 64 || !version.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be 1-64 printable characters without spaces".into());
    }
    Ok(())
}

/// The token's labels over the body's: asking for another value of one is refused.
pub fn apply_token_labels(asked: Option<Labels>, fixed: &Labels) -> Result<Labels, Error> {
    let mut labels = asked.unwrap_or_default();
    let mut errors = Vec::new();
    for (key, value) in fixed {
        match labels.get(key) {
            Some(v) if v != value => errors.push(FieldError::new(
                format!("/labels/{}", key.replace('~', "~0").replace('/', "~1")),
                format!("the registration token sets {key}={value}; it cannot be {v:?}"),
            )),
            _ => {
                labels.insert(key.clone(), value.clone());
            }
        }
    }
    if errors.is_empty() {
        Ok(labels)
    } else {
        Err(Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_servers_only_in_development_mode() {
        assert!(check_server("https://203.0.113.10:6443", false).is_ok());
        assert!(check_server("https://k8s.example.com/proxy/c-1", false).is_ok());
        let refused = check_server("http://k8s.example.com", false).unwrap_err();
        assert!(refused.contains("development mode"), "{refused}");
        assert!(check_server("http://127.0.0.1:6443", true).is_ok());
        assert!(check_server("https://", false).is_err());
        assert!(
            check_server(&format!("https://{}.example.com", "a".repeat(2100)), false)
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn token_labels_win_and_conflicts_are_named() {
        let fixed: Labels = [("region".to_owned(), "eu".to_owned())].into();
        let asked: Labels = [("tier".to_owned(), "prod".to_owned())].into();
        let merged = apply_token_labels(Some(asked), &fixed).expect("merged");
        assert_eq!(merged.get("region").map(String::as_str), Some("eu"));
        let clash: Labels = [("region".to_owned(), "us".to_owned())].into();
        assert!(apply_token_labels(Some(clash), &fixed).is_err());
    }
}
