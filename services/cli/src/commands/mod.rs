//! What each command does.

mod configure;
mod credentials;
mod install;
mod register;
mod resources;

use std::collections::BTreeMap;

use crate::cli::{Cli, Command};
use crate::error::{CliError, Result};
use crate::session::Session;
use crate::store::Home;

/// Runs the command line.
pub async fn run(cli: Cli) -> Result<()> {
    let account = cli.account.as_deref();
    match cli.command {
        Command::Configure(args) => configure::run(&args, account).await,
        Command::GetAccountName => {
            let settings = Home::locate()?
                .settings()?
                .ok_or_else(CliError::not_logged_in)?;
            println!("{}", account.unwrap_or(&settings.account));
            Ok(())
        }
        Command::RegisterCluster(args) => register::run(&args, account, cli.output).await,
        Command::Clusters(command) => {
            resources::clusters(&mut Session::load(account)?, command, cli.output).await
        }
        Command::Tokens(command) => {
            resources::tokens(&mut Session::load(account)?, command, cli.output).await
        }
        Command::RegistrationTokens(command) => {
            resources::registration_tokens(&mut Session::load(account)?, command, cli.output).await
        }
        Command::GetClusterKubeconfig { cluster } => {
            credentials::cluster_kubeconfig(&mut Session::load(account)?, &cluster, cli.output)
                .await
        }
        Command::ExecCredential { cluster } => {
            credentials::exec_credential(&mut Session::load(account)?, cluster.as_deref()).await
        }
        Command::Logout => credentials::logout().await,
    }
}

/// `key=value` pairs, as labels.
pub fn parse_labels(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("label {pair:?} must be key=value")))?;
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}
