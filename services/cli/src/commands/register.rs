//! `flotilla register-cluster`: the current kubeconfig context's API server and CA, an
//! identity CA (given, or generated here with its key kept local), uploaded with the person's
//! log-in or a registration token; then how to install the cluster's agent, and what other
//! clusters need to trust this one.

use flotilla_client::clusters::{ClusterRegistration, Registered};

use super::install::{self, CaSource};
use super::parse_labels;
use crate::api;
use crate::cli::RegisterArgs;
use crate::error::{local, CliError, Result};
use crate::identity;
use crate::kubeconfig;
use crate::output::{self, Format};
use crate::session::Session;
use crate::store::Home;

pub async fn run(args: &RegisterArgs, account: Option<&str>, format: Format) -> Result<()> {
    // The name goes into the generated CA's file names as well as into the call's path.
    flotilla_client::check_segment(&args.name)?;
    let path = kubeconfig::path(args.kubeconfig.as_deref())?;
    let kube = kubeconfig::cluster_of(&path, args.context.as_deref())?;
    let mut labels = parse_labels(&args.labels)?;
    if let Some(region) = &args.region {
        labels.insert("region".into(), region.clone());
    }
    // Who registers: the registration token, or the person's log-in. Known before a CA is
    // generated, so that a missing log-in leaves no CA files behind to refuse the next try.
    let (api, bearer, account) = match &args.registration_token {
        Some(token) => {
            let settings = Home::locate()?.settings()?;
            let server = args
                .server
                .clone()
                .or_else(|| settings.as_ref().map(|s| s.server.clone()))
                .ok_or_else(|| {
                    CliError::Usage("with --registration-token, --server is required".into())
                })?;
            let account = account
                .map(str::to_owned)
                .or_else(|| settings.map(|s| s.account))
                .ok_or_else(|| {
                    CliError::Usage("with --registration-token, --account is required".into())
                })?;
            (api::client(&server)?, token.clone(), account)
        }
        None => {
            let mut session = Session::load(account)?;
            let bearer = session.access_token().await?;
            let account = session.account().to_owned();
            (session.api, bearer, account)
        }
    };
    let (identity_ca, generated) = match &args.identity_ca {
        Some(file) => (
            std::fs::read_to_string(file).map_err(|e| local("read", file, e))?,
            None,
        ),
        None => {
            let generated = identity::generate(&args.name, &args.out_dir)?;
            (generated.certificate_pem.clone(), Some(generated))
        }
    };
    let registration = ClusterRegistration {
        identity_ca,
        server: kube.server,
        server_ca: kube.ca_pem,
        labels: (!labels.is_empty()).then_some(labels),
        agent_version: None,
    };
    let answer = api
        .register_cluster(&bearer, &account, &args.name, &registration)
        .await
        .map_err(|e| match &generated {
            // The CA is kept: registering again can reuse it.
            Some(g) => with_hint(
                e.into(),
                &format!(
                    "the generated CA's key is in {}; its certificate is in the Secret {}",
                    g.key_file.display(),
                    g.secret_file.display()
                ),
            ),
            None => e.into(),
        })?;
    if format != Format::Table {
        return output::whole(format, &answer);
    }
    let ca = match (&generated, &args.identity_ca) {
        (Some(g), _) => CaSource::Manifest(&g.secret_file),
        (None, Some(file)) => CaSource::Certificate(file),
        // clap requires one of the two.
        (None, None) => return Err(CliError::Usage("no identity CA".into())),
    };
    let agent = install::for_registered(api.server(), &account, &args.name, ca);
    print_registered(&answer, generated.as_ref(), &agent);
    Ok(())
}

fn with_hint(e: CliError, hint: &str) -> CliError {
    match e {
        CliError::Refused(m) => CliError::Refused(format!("{m} ({hint})")),
        CliError::Auth(m) => CliError::Auth(format!("{m} ({hint})")),
        CliError::Server(m) => CliError::Server(format!("{m} ({hint})")),
        other => other,
    }
}

fn print_registered(answer: &Registered, generated: Option<&identity::Generated>, agent: &str) {
    let cluster = &answer.cluster;
    let fingerprint = cluster
        .identity_cas
        .first()
        .map_or("-", |ca| ca.certificate.sha256.as_str());
    println!(
        "Cluster {}: {}.",
        cluster.name,
        output::word(&answer.outcome)
    );
    println!("SPIFFE prefix:        {}", cluster.spiffe_prefix);
    println!("Identity CA (SHA-256): {fingerprint}");
    if let Some(g) = generated {
        println!();
        println!(
            "The identity CA's private key is in {} (only you can read it); the Secret {} \
             holds it for the cluster's agent.",
            g.key_file.display(),
            g.secret_file.display()
        );
    }
    println!();
    println!(
        "Install the agent in the cluster (kubectl pointing at it, from a clone of Flotilla):"
    );
    println!();
    println!("{agent}");
    println!();
    println!("Other clusters of the account reach and trust this one with:");
    println!();
    println!("{}", snippets(&cluster.name, &cluster.spiffe_prefix));
}

/// Admiralty's `Kubeconfig` and `TrustedIdentityProvider` for `cluster`, resolved through
/// Flotilla (`admiraltyReference`).
pub fn snippets(cluster: &str, prefix: &str) -> String {
    format!(
        "apiVersion: multicluster.admiralty.io/v1alpha1\nkind: Kubeconfig\nmetadata:\n  name: {cluster}\n\
         spec:\n  secretName: {cluster}\n  cluster:\n    admiraltyReference:\n      clusterName: {cluster}\n---\n\
         apiVersion: multicluster.admiralty.io/v1alpha1\nkind: TrustedIdentityProvider\nmetadata:\n  name: {cluster}\n\
         spec:\n  prefix: \"{prefix}\"\n  admiraltyReference:\n    clusterName: {cluster}"
    )
}
