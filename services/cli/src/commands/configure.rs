//! `flotilla configure`: log in, choose the account, save both, and add a `flotilla` context
//! to the kubeconfig.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use flotilla_client::accounts::Me;
use flotilla_client::Client;

use crate::api::{self, CLIENT_ID};
use crate::cli::ConfigureArgs;
use crate::error::{CliError, Result};
use crate::kubeconfig::{self, Context};
use crate::login;
use crate::session::credentials_from;
use crate::store::{Home, Settings};

/// The kubeconfig context `configure` adds for Flotilla's API.
const CONTEXT: &str = "flotilla";

pub async fn run(args: &ConfigureArgs, account: Option<&str>) -> Result<()> {
    let home = Home::locate()?;
    let saved = home.settings()?;
    let server = match (&args.server, &saved) {
        (Some(server), _) => server.clone(),
        (None, Some(saved)) => saved.server.clone(),
        (None, None) => {
            return Err(CliError::Usage(
                "which Flotilla? run `flotilla configure --server https://...` the first time"
                    .into(),
            ))
        }
    };
    let api = api::client(&server)?;
    let tokens = if args.device {
        login::device(&api).await?
    } else {
        login::browser(&api, Duration::from_secs(args.timeout)).await?
    };
    let credentials = credentials_from(&tokens)?;
    let me = api.me(&credentials.access_token).await?;
    let account = match choose_account(&me, account, api.server()) {
        Ok(account) => account,
        Err(e) => {
            // Nothing is saved, so the log-in just made must not outlive this run.
            revoke(&api, &credentials.refresh_token).await;
            return Err(e);
        }
    };
    // Under the lock, so that the old tokens read are the latest (a parallel refresh may
    // replace them) and no `exec-credential` caches a token of the old log-in after the cache
    // is deleted.
    let lock = home.lock()?;
    // The log-in this one replaces is revoked, so no forgotten refresh token stays valid.
    if let (Some(saved), Some(old)) = (&saved, home.credentials()?) {
        if let Ok(old_api) = api::client(&saved.server) {
            revoke(&old_api, &old.refresh_token).await;
        }
    }
    // The cached cluster tokens are the old log-in's: perhaps another person's.
    home.forget_cluster_tokens(&lock)?;
    home.save_credentials(&credentials, &lock)?;
    home.save_settings(&Settings {
        server: api.server().to_owned(),
        account: account.clone(),
    })?;
    drop(lock);
    let who = me
        .person
        .as_ref()
        .and_then(|p| p.email.as_deref())
        .unwrap_or("you");
    eprintln!("Logged in to {} as {who}; account {account}.", api.server());
    if !args.no_kubeconfig {
        let path = kubeconfig::path(args.kubeconfig.as_deref())?;
        let context = Context {
            name: CONTEXT.into(),
            cluster: kubeconfig::cluster_entry(api.server(), None),
            user: kubeconfig::exec_user(&[]),
        };
        kubeconfig::merge_file(&path, &context)?;
        eprintln!("Added the `{CONTEXT}` context to {}.", path.display());
    }
    Ok(())
}

/// Revokes a log-in at the server, best effort.
async fn revoke(api: &Client, refresh_token: &str) {
    let _ = api
        .form(
            "/oauth/revoke",
            &[("token", refresh_token), ("client_id", CLIENT_ID)],
        )
        .await;
}

/// The account to use: `--account` if the person is a member, their only one, or the one
/// they pick.
fn choose_account(me: &Me, wanted: Option<&str>, server: &str) -> Result<String> {
    let names: Vec<String> = me.accounts.iter().map(|a| a.name.clone()).collect();
    if let Some(wanted) = wanted {
        return if names.iter().any(|n| n == wanted) {
            Ok(wanted.to_owned())
        } else {
            Err(CliError::Usage(format!(
                "you are not a member of account {wanted:?}; yours: {}",
                list(&names)
            )))
        };
    }
    match names.as_slice() {
        [] => Err(CliError::Refused(format!(
            "you have no account yet: sign up at {server}/signup, then run `flotilla configure` again"
        ))),
        [only] => Ok(only.clone()),
        _ if std::io::stdin().is_terminal() && login::interactive() => pick(&names),
        _ => Err(CliError::Usage(format!(
            "you are a member of several accounts ({}): choose one with --account",
            list(&names)
        ))),
    }
}

fn pick(names: &[String]) -> Result<String> {
    eprintln!("You are a member of several accounts:");
    for (i, name) in names.iter().enumerate() {
        eprintln!("  {}) {name}", i + 1);
    }
    loop {
        eprint!("Which one? [1-{}] ", names.len());
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Local(format!("cannot read your answer: {e}")))?;
        if read == 0 {
            return Err(CliError::Usage("no account chosen: use --account".into()));
        }
        let answer = line.trim();
        if let Some(name) = answer
            .parse::<usize>()
            .ok()
            .and_then(|i| names.get(i.wrapping_sub(1)))
            .or_else(|| names.iter().find(|n| *n == answer))
        {
            return Ok(name.clone());
        }
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
