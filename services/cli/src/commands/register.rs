//! `flotilla register-cluster`: the current kubeconfig context's API server and CA, an
//! identity CA (given, or generated here with its key kept local), uploaded with the person's
//! log-in or a registration token; then what other clusters need to trust this one.

use reqwest::Method;
use serde_json::{json, Value};

use super::parse_labels;
use crate::api::Api;
use crate::cli::RegisterArgs;
use crate::error::{local, CliError, Result};
use crate::identity;
use crate::kubeconfig;
use crate::output::{self, Format};
use crate::session::Session;
use crate::store::Home;

pub async fn run(args: &RegisterArgs, account: Option<&str>, format: Format) -> Result<()> {
    let path = kubeconfig::path(args.kubeconfig.as_deref())?;
    let kube = kubeconfig::cluster_of(&path, args.context.as_deref())?;
    let mut labels = parse_labels(&args.labels)?;
    if let Some(region) = &args.region {
        labels.insert("region".into(), region.clone());
    }
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
    let mut body = json!({ "identity_ca": identity_ca, "server": kube.server });
    if let Some(ca) = &kube.ca_pem {
        body["server_ca"] = json!(ca);
    }
    if !labels.is_empty() {
        body["labels"] = json!(labels);
    }
    let answer = match &args.registration_token {
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
            let api = Api::new(&server)?;
            let path = format!("/api/v1/accounts/{account}/clusters/{}", args.name);
            api.call(Method::PUT, &path, token, Some(&body)).await
        }
        None => {
            let mut session = Session::load(account)?;
            let path = session.account_path(&format!("/clusters/{}", args.name));
            session.call(Method::PUT, &path, Some(&body)).await
        }
    };
    let answer = answer.map_err(|e| match &generated {
        // The CA is kept: registering again can reuse it.
        Some(g) => with_hint(
            e,
            &format!(
                "the generated CA's key is in {}; its certificate is in the Secret {}",
                g.key_file.display(),
                g.secret_file.display()
            ),
        ),
        None => e,
    })?;
    if format != Format::Table {
        return output::print(format, &answer, &[]);
    }
    print_registered(&answer, generated.as_ref());
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

fn print_registered(answer: &Value, generated: Option<&identity::Generated>) {
    let name = answer["name"].as_str().unwrap_or_default();
    let prefix = answer["spiffe_prefix"].as_str().unwrap_or_default();
    let outcome = answer["outcome"].as_str().unwrap_or("registered");
    let fingerprint = answer["identity_cas"][0]["sha256"].as_str().unwrap_or("-");
    println!("Cluster {name}: {outcome}.");
    println!("SPIFFE prefix:        {prefix}");
    println!("Identity CA (SHA-256): {fingerprint}");
    if let Some(g) = generated {
        println!();
        println!(
            "The identity CA's private key is in {} (only you can read it).",
            g.key_file.display()
        );
        println!(
            "Give it to the cluster's agent:  kubectl apply -f {}",
            g.secret_file.display()
        );
    }
    println!();
    println!("Other clusters of the account reach and trust this one with:");
    println!();
    println!("{}", snippets(name, prefix));
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
