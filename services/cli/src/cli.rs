//! The command line: every command, its options, and its help with examples.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use flotilla_client::accounts::Role;

use crate::output::Format;

const EXIT_CODES: &str = "\
Exit codes: 0 done; 1 refused by the server (not found, invalid) or a local failure;
2 usage error; 3 not logged in, log-in expired, or not allowed; 4 server unreachable or failing.";

/// The Flotilla command line.
#[derive(Debug, Parser)]
#[command(name = "flotilla", version, about = "Flotilla: a control plane for fleets of Kubernetes clusters", after_help = EXIT_CODES)]
pub struct Cli {
    /// The account to work on (default: the one chosen at `flotilla configure`).
    #[arg(long, global = true, env = "FLOTILLA_ACCOUNT")]
    pub account: Option<String>,

    /// How to print data.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in, choose an account, and add a `flotilla` context to your kubeconfig.
    #[command(
        after_help = "Examples:\n  flotilla configure --server https://flotilla.example.com\n  flotilla configure --device            # no browser on this machine\n  flotilla configure --account acme      # when you belong to several accounts"
    )]
    Configure(ConfigureArgs),
    /// Print the account's name, and nothing else.
    #[command(
        after_help = "Example:\n  curl http://hello-world.$(flotilla get-account-name).flotilla.example.com"
    )]
    GetAccountName,
    /// Register the current kubeconfig context's cluster (or update its registration).
    #[command(
        after_help = "Examples:\n  flotilla register-cluster --name eu-1 --region eu-west-1 --generate-identity-ca\n  flotilla register-cluster --name us-1 --identity-ca ca.crt --context us-1 --labels tier=prod\n  flotilla register-cluster --server https://flotilla.example.com --account acme \\\n    --registration-token flreg_... --name eu-2 --generate-identity-ca"
    )]
    RegisterCluster(RegisterArgs),
    /// List, show or deregister clusters.
    #[command(subcommand)]
    Clusters(ClustersCommand),
    /// Create, list or revoke API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Create, list or revoke registration tokens.
    #[command(subcommand)]
    RegistrationTokens(RegistrationTokensCommand),
    /// Print a kubeconfig for a registered cluster whose user runs `flotilla exec-credential`.
    #[command(
        after_help = "Example:\n  flotilla get-cluster-kubeconfig --cluster eu-1 > eu-1.kubeconfig\n  kubectl --kubeconfig eu-1.kubeconfig get nodes"
    )]
    GetClusterKubeconfig {
        /// The cluster.
        #[arg(long)]
        cluster: String,
    },
    /// Print an ExecCredential with a fresh token (kubectl runs this for you).
    #[command(
        after_help = "Examples:\n  flotilla exec-credential                 # a token for Flotilla's API\n  flotilla exec-credential --cluster eu-1  # a token for cluster eu-1's API server"
    )]
    ExecCredential {
        /// A token for this cluster's API server (audience-bound to it) instead of Flotilla's.
        #[arg(long)]
        cluster: Option<String>,
    },
    /// Revoke your log-in at the server and delete the local tokens.
    Logout,
}

/// `configure`.
#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Flotilla's URL (required the first time).
    #[arg(long, env = "FLOTILLA_SERVER")]
    pub server: Option<String>,
    /// Log in with a code entered on another device instead of a browser here.
    #[arg(long)]
    pub device: bool,
    /// Seconds to wait for the browser.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// The kubeconfig to add the `flotilla` context to (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Do not touch any kubeconfig.
    #[arg(long, conflicts_with = "kubeconfig")]
    pub no_kubeconfig: bool,
}

/// `register-cluster`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("ca").required(true).args(["identity_ca", "generate_identity_ca"]))]
pub struct RegisterArgs {
    /// The cluster's name (a DNS label, unique in the account).
    #[arg(long)]
    pub name: String,
    /// Its region (the `region` label, for latency-based DNS), e.g. eu-west-1.
    #[arg(long)]
    pub region: Option<String>,
    /// Labels, `key=value`, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// The kubeconfig to read the cluster's API server and CA from.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long)]
    pub context: Option<String>,
    /// The identity CA's certificate (PEM).
    #[arg(long)]
    pub identity_ca: Option<PathBuf>,
    /// Generate a new identity CA; its key is written only to local files (0600).
    #[arg(long)]
    pub generate_identity_ca: bool,
    /// Where to write the generated CA's files.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
    /// Register with this registration token instead of your log-in.
    #[arg(long, env = "FLOTILLA_REGISTRATION_TOKEN", hide_env_values = true)]
    pub registration_token: Option<String>,
    /// Flotilla's URL, with a registration token and no log-in here.
    #[arg(long, env = "FLOTILLA_SERVER")]
    pub server: Option<String>,
}

/// `clusters ...`.
#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List the account's clusters.
    List,
    /// Show one cluster.
    Get {
        /// The cluster.
        name: String,
    },
    /// Deregister a cluster (its agents stop being trusted at once).
    Delete {
        /// The cluster.
        name: String,
    },
}

/// `tokens ...`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token (its secret is shown once).
    #[command(
        after_help = "Example:\n  flotilla tokens create --name ci --role viewer --expires-in-days 30"
    )]
    Create {
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Its role: at most yours.
        #[arg(long, default_value = "viewer", value_parser = role_parser())]
        role: Role,
        /// Days until it expires.
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: u32,
    },
    /// List the account's API tokens (never their secrets).
    List,
    /// Revoke an API token.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// `registration-tokens ...`.
#[derive(Debug, Subcommand)]
pub enum RegistrationTokensCommand {
    /// Create a registration token (its secret is shown once, with the command that uses it).
    #[command(
        after_help = "Example:\n  flotilla registration-tokens create --description 'eu clusters' --max-uses 3 --labels region=eu-west-1"
    )]
    Create {
        /// What it is for.
        #[arg(long)]
        description: String,
        /// How many registrations it may make.
        #[arg(long)]
        max_uses: Option<u32>,
        /// Seconds until it stops working (default 3600).
        #[arg(long)]
        ttl_seconds: Option<u64>,
        /// Labels every cluster it registers gets, `key=value`, comma-separated.
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
    },
    /// List the account's registration tokens.
    List,
    /// Revoke a registration token.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// `--role`: one of the API's roles, decoded as the API names them.
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(["viewer", "admin", "owner"])
        .try_map(|word| serde_json::from_value::<Role>(word.into()))
}
