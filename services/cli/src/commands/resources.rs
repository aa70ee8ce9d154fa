//! `clusters`, `tokens` and `registration-tokens`: thin calls to the API, printed as tables,
//! JSON or YAML.

use chrono::{Duration, SecondsFormat, Utc};
use flotilla_client::clusters::Cluster;
use flotilla_client::tokens::{
    ApiToken, NewApiToken, NewRegistrationToken, RegistrationToken, Secret,
};
use serde::Serialize;

use super::install;
use super::parse_labels;
use crate::cli::{ClustersCommand, RegistrationTokensCommand, TokensCommand};
use crate::error::Result;
use crate::output::{self, or_dash, pairs, word, Column, Format};
use crate::session::Session;

/// The fingerprint of a cluster's current identity CA.
fn identity_ca(c: &Cluster) -> String {
    or_dash(
        c.identity_cas
            .first()
            .map(|ca| ca.certificate.sha256.as_str()),
    )
}

const CLUSTER_COLUMNS: &[Column<Cluster>] = &[
    Column {
        header: "NAME",
        cell: |c| c.name.clone(),
    },
    Column {
        header: "STATUS",
        cell: |c| word(&c.status),
    },
    Column {
        header: "REGION",
        cell: |c| or_dash(c.labels.get("region").map(String::as_str)),
    },
    Column {
        header: "LAST HEARTBEAT",
        cell: |c| or_dash(c.last_heartbeat_at.as_deref()),
    },
    Column {
        header: "AGENT",
        cell: |c| or_dash(c.agent_version.as_deref()),
    },
    Column {
        header: "IDENTITY CA (SHA-256)",
        cell: identity_ca,
    },
];

const CLUSTER_FIELDS: &[Column<Cluster>] = &[
    Column {
        header: "name",
        cell: |c| c.name.clone(),
    },
    Column {
        header: "status",
        cell: |c| word(&c.status),
    },
    Column {
        header: "server",
        cell: |c| c.server.clone(),
    },
    Column {
        header: "spiffe prefix",
        cell: |c| c.spiffe_prefix.clone(),
    },
    Column {
        header: "labels",
        cell: |c| pairs(&c.labels),
    },
    Column {
        header: "identity CA",
        cell: identity_ca,
    },
    Column {
        header: "last heartbeat",
        cell: |c| or_dash(c.last_heartbeat_at.as_deref()),
    },
    Column {
        header: "agent",
        cell: |c| or_dash(c.agent_version.as_deref()),
    },
    Column {
        header: "registered",
        cell: |c| c.registered_at.clone(),
    },
];

const TOKEN_COLUMNS: &[Column<ApiToken>] = &[
    Column {
        header: "ID",
        cell: |t| t.id.clone(),
    },
    Column {
        header: "NAME",
        cell: |t| t.name.clone(),
    },
    Column {
        header: "ROLE",
        cell: |t| word(&t.role),
    },
    Column {
        header: "PREFIX",
        cell: |t| t.prefix.clone(),
    },
    Column {
        header: "EXPIRES",
        cell: |t| t.expires_at.clone(),
    },
    Column {
        header: "LAST USED",
        cell: |t| or_dash(t.last_used_at.as_deref()),
    },
    Column {
        header: "REVOKED",
        cell: |t| or_dash(t.revoked_at.as_deref()),
    },
];

const REGISTRATION_TOKEN_COLUMNS: &[Column<RegistrationToken>] = &[
    Column {
        header: "ID",
        cell: |t| t.id.clone(),
    },
    Column {
        header: "DESCRIPTION",
        cell: |t| t.description.clone(),
    },
    Column {
        header: "STATE",
        cell: |t| t.state.clone(),
    },
    Column {
        header: "USES",
        cell: |t| format!("{}/{}", t.uses, t.max_uses),
    },
    Column {
        header: "LABELS",
        cell: |t| pairs(&t.labels),
    },
    Column {
        header: "EXPIRES",
        cell: |t| t.expires_at.clone(),
    },
];

pub async fn clusters(
    session: &mut Session,
    command: ClustersCommand,
    format: Format,
) -> Result<()> {
    let token = session.access_token().await?;
    let (api, account) = (&session.api, session.account());
    match command {
        ClustersCommand::List => {
            let list = api.list_clusters(&token, account).await?;
            output::list(format, &list, CLUSTER_COLUMNS)
        }
        ClustersCommand::Get { name } => {
            let cluster = api.get_cluster(&token, account, &name).await?;
            output::one(format, &cluster, CLUSTER_FIELDS)
        }
        ClustersCommand::Delete { name } => {
            api.deregister_cluster(&token, account, &name).await?;
            eprintln!("Deregistered cluster {name}.");
            Ok(())
        }
    }
}

pub async fn tokens(session: &mut Session, command: TokensCommand, format: Format) -> Result<()> {
    let token = session.access_token().await?;
    let (api, account) = (&session.api, session.account());
    match command {
        TokensCommand::Create {
            name,
            role,
            expires_in_days,
        } => {
            let expires_at = (Utc::now() + Duration::days(i64::from(expires_in_days)))
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            let new = NewApiToken {
                name,
                role,
                expires_at,
            };
            let created = api.create_token(&token, account, &new).await?;
            let details = &created.details;
            print_secret(
                format,
                &created,
                &created.token,
                &format!("API token {} (expires {})", details.id, details.expires_at),
                None,
            )
        }
        TokensCommand::List => {
            let list = api.list_tokens(&token, account).await?;
            output::list(format, &list, TOKEN_COLUMNS)
        }
        TokensCommand::Revoke { id } => {
            api.revoke_token(&token, account, &id).await?;
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
    let token = session.access_token().await?;
    let (api, account) = (&session.api, session.account());
    match command {
        RegistrationTokensCommand::Create {
            description,
            max_uses,
            ttl_seconds,
            labels,
        } => {
            let new = NewRegistrationToken {
                description,
                labels: parse_labels(&labels)?,
                max_uses,
                ttl_seconds,
            };
            let created = api.create_registration_token(&token, account, &new).await?;
            let (server, secret) = (api.server(), created.token.expose());
            let usage = format!(
                "Register a cluster with it:\n  {}\n\
                 Install the agent in the cluster, which registers it with this token:\n\n{}\n",
                install::register_with_token(server, account, secret),
                install::with_registration_token(server, account, secret)
            );
            let details = &created.details;
            print_secret(
                format,
                &created,
                &created.token,
                &format!(
                    "registration token {} (expires {})",
                    details.id, details.expires_at
                ),
                Some(&usage),
            )
        }
        RegistrationTokensCommand::List => {
            let list = api.list_registration_tokens(&token, account).await?;
            output::list(format, &list, REGISTRATION_TOKEN_COLUMNS)
        }
        RegistrationTokensCommand::Revoke { id } => {
            api.revoke_registration_token(&token, account, &id).await?;
            eprintln!("Revoked registration token {id}.");
            Ok(())
        }
    }
}

/// A created token: its secret on stdout (alone, for scripts), the rest on stderr, what to
/// do with it last.
fn print_secret<T: Serialize>(
    format: Format,
    created: &T,
    secret: &Secret,
    what: &str,
    usage: Option<&str>,
) -> Result<()> {
    if format != Format::Table {
        return output::whole(format, created);
    }
    println!("{}", secret.expose());
    eprintln!("Created {what}. The secret above is shown this once.");
    if let Some(usage) = usage {
        eprintln!("{usage}");
    }
    Ok(())
}
