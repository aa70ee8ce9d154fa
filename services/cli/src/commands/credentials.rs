//! `get-cluster-kubeconfig`, `exec-credential` and `logout`: the person's tokens, as kubectl
//! and the server need them.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::json;

use crate::api::{self, CLIENT_ID};
use crate::cluster_tokens;
use crate::error::{CliError, Result};
use crate::kubeconfig::{self, Context};
use crate::output::{self, Format};
use crate::session::Session;
use crate::store::Home;

pub async fn cluster_kubeconfig(
    session: &mut Session,
    cluster: &str,
    format: Format,
) -> Result<()> {
    let token = session.access_token().await?;
    let found = session
        .api
        .kubeconfig(&token, session.account(), cluster)
        .await?;
    let mut entry = kubeconfig::cluster_entry(&found.server, None);
    if !found.certificate_authority_data.is_empty() {
        entry["certificate-authority-data"] = found.certificate_authority_data.into();
    }
    let context = Context {
        name: cluster.to_owned(),
        cluster: entry,
        user: kubeconfig::exec_user(&["--cluster", cluster, "--account", session.account()]),
    };
    // A kubeconfig is YAML unless JSON is asked for.
    let format = match format {
        Format::Table => Format::Yaml,
        other => other,
    };
    output::whole(format, &context.standalone())
}

pub async fn exec_credential(session: &mut Session, cluster: Option<&str>) -> Result<()> {
    let (token, expires_at) = match cluster {
        None => (session.access_token().await?, session.expires_at()),
        Some(cluster) => {
            let found = cluster_tokens::cluster_token(session, cluster).await?;
            (found.token, found.expires_at)
        }
    };
    let expires = Utc
        .timestamp_opt(expires_at, 0)
        .single()
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": { "token": token, "expirationTimestamp": expires },
    });
    println!("{credential}");
    Ok(())
}

pub async fn logout() -> Result<()> {
    let home = Home::locate()?;
    let (Some(settings), Some(_)) = (home.settings()?, home.credentials()?) else {
        eprintln!("Not logged in.");
        return Ok(());
    };
    let lock = home.lock()?;
    // Read under the lock: a parallel refresh may have just replaced the refresh token.
    let Some(credentials) = home.credentials()? else {
        eprintln!("Not logged in.");
        return Ok(());
    };
    let revoked = match api::client(&settings.server) {
        Ok(api) => api
            .form(
                "/oauth/revoke",
                &[
                    ("token", &credentials.refresh_token),
                    ("client_id", CLIENT_ID),
                ],
            )
            .await
            .map(|_| ())
            .map_err(CliError::from),
        Err(e) => Err(e),
    };
    // The local tokens go whatever the server said: logging out must not be blocked.
    home.forget_credentials(&lock)?;
    match revoked {
        Ok(()) => {
            eprintln!("Logged out of {}.", settings.server);
            Ok(())
        }
        Err(e) => Err(CliError::Server(format!(
            "the local tokens are deleted, but the log-in could not be revoked at the server: {e}"
        ))),
    }
}
