//! `clusters`, `tokens` and `registration-tokens`: thin calls to the API, printed as tables,
//! JSON or YAML.

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use super::parse_labels;
use crate::cli::{ClustersCommand, RegistrationTokensCommand, TokensCommand};
use crate::error::Result;
use crate::output::{self, pairs, text, Column, Format};
use crate::session::Session;

const CLUSTER_COLUMNS: &[Column] = &[
    Column {
        header: "NAME",
        cell: |v| text(v, "name"),
    },
    Column {
        header: "STATUS",
        cell: |v| text(v, "status"),
    },
    Column {
        header: "REGION",
        cell: |v| text(&v["labels"], "region"),
    },
    Column {
        header: "LAST HEARTBEAT",
        cell: |v| text(v, "last_heartbeat_at"),
    },
    Column {
        header: "AGENT",
        cell: |v| text(v, "agent_version"),
    },
    Column {
        header: "IDENTITY CA (SHA-256)",
        cell: |v| text(&v["identity_cas"][0], "sha256"),
    },
];

const CLUSTER_FIELDS: &[Column] = &[
    Column {
        header: "name",
        cell: |v| text(v, "name"),
    },
    Column {
        header: "status",
        cell: |v| text(v, "status"),
    },
    Column {
        header: "server",
        cell: |v| text(v, "server"),
    },
    Column {
        header: "spiffe prefix",
        cell: |v| text(v, "spiffe_prefix"),
    },
    Column {
        header: "labels",
        cell: |v| pairs(v, "labels"),
    },
    Column {
        header: "identity CA",
        cell: |v| text(&v["identity_cas"][0], "sha256"),
    },
    Column {
        header: "last heartbeat",
        cell: |v| text(v, "last_heartbeat_at"),
    },
    Column {
        header: "agent",
        cell: |v| text(v, "agent_version"),
    },
    Column {
        header: "registered",
        cell: |v| text(v, "registered_at"),
    },
];

const TOKEN_COLUMNS: &[Column] = &[
    Column {
        header: "ID",
        cell: |v| text(v, "id"),
    },
    Column {
        header: "NAME",
        cell: |v| text(v, "name"),
    },
    Column {
        header: "ROLE",
        cell: |v| text(v, "role"),
    },
    Column {
        header: "PREFIX",
        cell: |v| text(v, "prefix"),
    },
    Column {
        header: "EXPIRES",
        cell: |v| text(v, "expires_at"),
    },
    Column {
        header: "LAST USED",
        cell: |v| text(v, "last_used_at"),
    },
    Column {
        header: "REVOKED",
        cell: |v| text(v, "revoked_at"),
    },
];

const REGISTRATION_TOKEN_COLUMNS: &[Column] = &[
    Column {
        header: "ID",
        cell: |v| text(v, "id"),
    },
    Column {
        header: "DESCRIPTION",
        cell: |v| text(v, "description"),
    },
    Column {
        header: "STATE",
        cell: |v| text(v, "state"),
    },
    Column {
        header: "USES",
        cell: |v| format!("{}/{}", text(v, "uses"), text(v, "max_uses")),
    },
    Column {
        header: "LABELS",
        cell: |v| pairs(v, "labels"),
    },
    Column {
        header: "EXPIRES",
        cell: |v| text(v, "expires_at"),
    },
];

pub async fn clusters(
    session: &mut Session,
    command: ClustersCommand,
    format: Format,
) -> Result<()> {
    match command {
        ClustersCommand::List => {
            let list = session
                .call(Method::GET, &session.account_path("/clusters"), None)
                .await?;
            output::print(format, &list, CLUSTER_COLUMNS)
        }
        ClustersCommand::Get { name } => {
            let path = session.account_path(&format!("/clusters/{name}"));
            let cluster = session.call(Method::GET, &path, None).await?;
            output::print(format, &cluster, CLUSTER_FIELDS)
        }
        ClustersCommand::Delete { name } => {
            let path = session.account_path(&format!("/clusters/{name}"));
            session.call(Method::DELETE, &path, None).await?;
            eprintln!("Deregistered cluster {name}.");
            Ok(())
        }
    }
}

pub async fn tokens(session: &mut Session, command: TokensCommand, format: Format) -> Result<()> {
    match command {
        TokensCommand::Create {
            name,
            role,
            expires_in_days,
        } => {
            let expires_at = (Utc::now() + Duration::days(i64::from(expires_in_days)))
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            let body = json!({ "name": name, "role": role, "expires_at": expires_at });
            let created = session
                .call(Method::POST, &session.account_path("/tokens"), Some(&body))
                .await?;
            print_secret(format, &created, "API token", None)
        }
        TokensCommand::List => {
            let list = session
                .call(Method::GET, &session.account_path("/tokens"), None)
                .await?;
            output::print(format, &list, TOKEN_COLUMNS)
        }
        TokensCommand::Revoke { id } => {
            session
                .call(
                    Method::DELETE,
                    &session.account_path(&format!("/tokens/{id}")),
                    None,
                )
                .await?;
            eprintln!("Revoked API token {id}.");
            Ok(())
        }
    }
}

pub async fn registration_tokens(
    session: &mut Session,
    command: RegistrationTokensCommand,
    format: Format,
) -> Result<()> {
    match command {
        RegistrationTokensCommand::Create {
            description,
            max_uses,
            ttl_seconds,
            labels,
        } => {
            let body = json!({
                "description": description,
                "max_uses": max_uses,
                "ttl_seconds": ttl_seconds,
                "labels": parse_labels(&labels)?,
            });
            let created = session
                .call(
                    Method::POST,
                    &session.account_path("/registration-tokens"),
                    Some(&body),
                )
                .await?;
            let usage = format!(
                "flotilla register-cluster --server {} --account {} --registration-token {} --name <cluster> --generate-identity-ca",
                session.settings.server,
                session.settings.account,
                created["token"].as_str().unwrap_or_default()
            );
            print_secret(format, &created, "registration token", Some(&usage))
        }
        RegistrationTokensCommand::List => {
            let path = session.account_path("/registration-tokens");
            let list = session.call(Method::GET, &path, None).await?;
            output::print(format, &list, REGISTRATION_TOKEN_COLUMNS)
        }
        RegistrationTokensCommand::Revoke { id } => {
            let path = session.account_path(&format!("/registration-tokens/{id}"));
            session.call(Method::DELETE, &path, None).await?;
            eprintln!("Revoked registration token {id}.");
            Ok(())
        }
    }
}

/// A created token: its secret on stdout (alone, for scripts), the rest on stderr.
fn print_secret(format: Format, created: &Value, what: &str, usage: Option<&str>) -> Result<()> {
    if format != Format::Table {
        return output::print(format, created, &[]);
    }
    println!("{}", created["token"].as_str().unwrap_or_default());
    eprintln!(
        "Created {what} {} (expires {}). The secret above is shown this once.",
        text(created, "id"),
        text(created, "expires_at")
    );
    if let Some(usage) = usage {
        eprintln!("Register a cluster with it:\n  {usage}");
    }
    Ok(())
}
