//! Kubeconfigs, resolved: for each one referencing a cluster of the account, the Secret it
//! names gets a kubeconfig with that cluster's API server and CA (from Flotilla's directory)
//! and a user authenticated by a client certificate for this cluster's identity
//! (`spiffe://<this cluster>/ns/<namespace>/id/<service account>`), issued by its identity CA.
//! What to do is decided here, purely; writing it (and finding whose the Secret is) is
//! `apply`'s.

use std::collections::BTreeMap;

use super::resources::{KubeconfigSpec, Object};
use super::status::Verdict;
use super::trust::{
    certificates_of, flotilla_unreachable, no_such_cluster, not_a_cluster_name, other_account,
};
use super::Trust;
use crate::config::{is_dns_label, is_object_name};
use crate::identity::ca::fingerprint;

/// The status fields the agent owns on a Kubeconfig.
pub const OWNED: &[&str] = &[
    "cluster",
    "server",
    "caFingerprint",
    "secretName",
    "clientCertificateExpiresAt",
];
/// The service account whose identity a client certificate carries by default.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// Where a cluster's API server is, as the directory answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Its URL.
    pub url: String,
    /// Its CA, base64 PEM (kubeconfig's `certificate-authority-data`).
    pub ca_data: String,
}

/// What to do with a Kubeconfig's Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretAction {
    /// Make it hold a kubeconfig for `cluster` at `server`, as `user`.
    Write {
        /// The referenced cluster.
        cluster: String,
        /// Its API server.
        server: Server,
        /// The SPIFFE ID of the client certificate.
        user: String,
    },
    /// Remove it, if it is the agent's: its cluster is gone.
    Remove,
    /// Leave it as it is.
    Leave,
}

/// What to do for one Kubeconfig.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeconfigPlan {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid (the Secret's owner), when known.
    pub uid: Option<String>,
    /// The Secret it names.
    pub secret: Option<String>,
    /// What to do with it.
    pub action: SecretAction,
    /// What its status says (before the Secret is written).
    pub verdict: Verdict,
}

/// The plans of `kubeconfigs` of `account`, whose clients are identities of `this_cluster`,
/// given Flotilla's bundle map (`trust`), the API servers looked up so far (`servers`: a
/// cluster's, or why it could not be looked up), and why Flotilla cannot be reached now.
pub fn plan(
    account: &str,
    this_cluster: &str,
    kubeconfigs: &[Object<KubeconfigSpec>],
    trust: Option<&Trust>,
    servers: &BTreeMap<String, Result<Server, String>>,
    unreachable: Option<&str>,
) -> Vec<KubeconfigPlan> {
    kubeconfigs
        .iter()
        .map(|k| {
            let (action, verdict) = decide(account, this_cluster, k, trust, servers, unreachable);
            KubeconfigPlan {
                namespace: k.namespace.clone(),
                name: k.name.clone(),
                uid: k.uid.clone(),
                secret: k.spec.as_ref().ok().and_then(|s| s.secret_name.clone()),
                action,
                verdict,
            }
        })
        .collect()
}

fn decide(
    account: &str,
    this_cluster: &str,
    kubeconfig: &Object<KubeconfigSpec>,
    trust: Option<&Trust>,
    servers: &BTreeMap<String, Result<Server, String>>,
    unreachable: Option<&str>,
) -> (SecretAction, Verdict) {
    let leave = SecretAction::Leave;
    let spec = match &kubeconfig.spec {
        Ok(spec) => spec,
        Err(why) => return (leave, Verdict::refused("InvalidSpec", why.clone())),
    };
    let Some(secret) = spec.secret_name.as_deref().filter(|s| !s.is_empty()) else {
        return (
            leave,
            Verdict::refused("InvalidSpec", "spec.secretName is missing"),
        );
    };
    if !is_object_name(secret) {
        return (
            leave,
            Verdict::refused(
                "InvalidSpec",
                format!("spec.secretName {secret:?} is not a Secret name (a DNS subdomain)"),
            ),
        );
    }
    let cluster_spec = spec.cluster.clone().unwrap_or_default();
    let Some(reference) = &cluster_spec.admiralty_reference else {
        return (
            leave,
            inline(
                &cluster_spec.server,
                &cluster_spec.certificate_authority_data,
            ),
        );
    };
    let Some(cluster) = reference.cluster_name.as_deref().filter(|c| !c.is_empty()) else {
        return (
            leave,
            Verdict::refused(
                "InvalidSpec",
                "spec.cluster.admiraltyReference has no clusterName",
            ),
        );
    };
    if !is_dns_label(cluster) {
        return (leave, not_a_cluster_name(cluster));
    }
    if let Some(other) = reference.account_name.as_deref().filter(|a| *a != account) {
        return (leave, other_account(other, account));
    }
    let Some(trust) = trust else {
        return (leave, flotilla_unreachable(unreachable));
    };
    if !trust.clusters.contains_key(cluster) {
        // Known absent only while Flotilla answers: a stale map never removes a Secret.
        if unreachable.is_some() {
            return (leave, flotilla_unreachable(unreachable));
        }
        return (SecretAction::Remove, no_such_cluster(account, cluster));
    }
    let server = match servers.get(cluster) {
        Some(Ok(server)) => server.clone(),
        Some(Err(why)) => return (leave, flotilla_unreachable(Some(why))),
        None => return (leave, flotilla_unreachable(unreachable)),
    };
    let service_account = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SERVICE_ACCOUNT);
    // It becomes a path segment of a SPIFFE ID: a '/' would name another identity.
    if !is_object_name(service_account) {
        return (
            leave,
            Verdict::refused(
                "InvalidSpec",
                format!("spec.serviceAccountName {service_account:?} is not a service account name (a DNS subdomain)"),
            ),
        );
    }
    let user = format!(
        "spiffe://{this_cluster}/ns/{}/id/{service_account}",
        kubeconfig.namespace
    );
    let ca_fingerprint = certificates_of(&server.ca_data)
        .ok()
        .and_then(|cas| cas.first().map(|der| fingerprint(der)));
    let verdict = Verdict::resolved(
        "Resolved",
        format!(
            "the Secret {secret} reaches cluster {cluster} at {} as {user}",
            server.url
        ),
    )
    .with("cluster", cluster)
    .with("server", server.url.as_str())
    .with("caFingerprint", ca_fingerprint)
    .with("secretName", secret);
    (
        SecretAction::Write {
            cluster: cluster.to_owned(),
            server,
            user,
        },
        verdict,
    )
}

/// A Kubeconfig without a reference: its server and CA, checked, left to the user.
fn inline(server: &Option<String>, ca: &Option<String>) -> Verdict {
    let Some(server) = server else {
        return Verdict::refused(
            "InvalidSpec",
            "spec.cluster has neither admiraltyReference nor server",
        );
    };
    let url_ok = url::Url::parse(server)
        .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.has_host());
    if !url_ok {
        return Verdict::refused(
            "InvalidInline",
            format!("spec.cluster.server {server:?} is not an http(s) URL"),
        );
    }
    if let Some(ca) = ca {
        if let Err(why) = certificates_of(ca) {
            return Verdict::refused(
                "InvalidInline",
                format!("spec.cluster.certificateAuthorityData {why}"),
            );
        }
    }
    Verdict::resolved(
        "Inline",
        "server and CA are given inline: checked; the Secret is yours to write",
    )
    .with("server", server.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::resources::{AdmiraltyReference, ClusterSpec};
    use crate::directory::ClusterTrust;
    use flotilla_client::directory::BundleMap;

    fn kubeconfig(
        secret: &str,
        service_account: Option<&str>,
        cluster: &str,
    ) -> Object<KubeconfigSpec> {
        Object {
            namespace: "default".into(),
            name: "k".into(),
            uid: None,
            generation: None,
            spec: Ok(KubeconfigSpec {
                secret_name: Some(secret.into()),
                service_account_name: service_account.map(str::to_owned),
                cluster: Some(ClusterSpec {
                    admiralty_reference: Some(AdmiraltyReference {
                        cluster_name: Some(cluster.into()),
                        account_name: None,
                    }),
                    ..ClusterSpec::default()
                }),
            }),
            status: serde_json::Value::Null,
        }
    }

    #[test]
    fn names_that_would_reach_another_path_or_identity_are_refused() {
        let trust = Trust {
            clusters: BTreeMap::from([(
                "eu-1".to_owned(),
                ClusterTrust {
                    sequence: 1,
                    cas: Vec::new(),
                },
            )]),
            map: BundleMap::default(),
        };
        let servers = BTreeMap::from([(
            "eu-1".to_owned(),
            Ok(Server {
                url: "https://eu-1.example:6443".into(),
                ca_data: String::new(),
            }),
        )]);
        let decide = |k| plan("acme", "mgmt", &[k], Some(&trust), &servers, None).remove(0);
        let good = decide(kubeconfig("eu-1", Some("scheduler"), "eu-1"));
        assert!(good.verdict.resolved, "{good:?}");
        assert!(
            matches!(&good.action, SecretAction::Write { user, .. } if user == "spiffe://mgmt/ns/default/id/scheduler")
        );
        for bad in [
            kubeconfig("../x", None, "eu-1"),
            kubeconfig("eu-1", Some("default/../admin"), "eu-1"),
            kubeconfig("eu-1", None, "eu-1/../other"),
        ] {
            let refused = decide(bad);
            assert_eq!(refused.verdict.reason, "InvalidSpec", "{refused:?}");
            assert_eq!(refused.action, SecretAction::Leave);
        }
    }
}
