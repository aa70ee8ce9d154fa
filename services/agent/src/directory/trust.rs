//! TrustedIdentityProviders, resolved: for each one referencing a cluster of the account, the
//! identity CAs that cluster currently trusts (all of them during a rotation), from Flotilla's
//! bundle map; and, per namespace, the ConfigMap `flotilla-trusted-identities` mapping each
//! prefix to its CAs as PEM, with every CA in `ca-bundle.pem` (what an mTLS proxy, a mesh or
//! kube-apiserver's client-CA bundle reads). A pure function of the resources and the map.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::resources::{Object, ProviderSpec};
use super::status::Verdict;
use super::Trust;
use crate::config::is_dns_label;
use crate::identity::ca::{fingerprint, pem_of};

/// The ConfigMap of each namespace holding TrustedIdentityProviders.
pub const CONFIG_MAP: &str = "flotilla-trusted-identities";
/// Its key holding every CA of the namespace's providers.
pub const BUNDLE_KEY: &str = "ca-bundle.pem";
/// Its key mapping each prefix to the key of its CAs.
pub const PREFIXES_KEY: &str = "prefixes.json";
/// The status fields the agent owns on a TrustedIdentityProvider.
pub const OWNED: &[&str] = &[
    "cluster",
    "prefix",
    "certificateAuthorityData",
    "certificates",
    "spiffeSequence",
];

/// What to write for one TrustedIdentityProvider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderPlan {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What its status says.
    pub verdict: Verdict,
}

/// The plans of `providers` of `account`, and the ConfigMap data of each of their namespaces,
/// given what Flotilla last said (`trust`: `None` before its first answer) and why it cannot
/// be reached now, if it cannot.
pub fn plan(
    account: &str,
    providers: &[Object<ProviderSpec>],
    trust: Option<&Trust>,
    unreachable: Option<&str>,
) -> (
    Vec<ProviderPlan>,
    BTreeMap<String, BTreeMap<String, String>>,
) {
    let mut plans = Vec::new();
    let mut maps: BTreeMap<String, Namespace> = BTreeMap::new();
    for provider in providers {
        let namespace = maps.entry(provider.namespace.clone()).or_default();
        let (verdict, cas) = resolve(account, provider, trust, unreachable);
        if let (Some(cas), Some(prefix)) =
            (cas, verdict.fields.get("prefix").and_then(Value::as_str))
        {
            namespace.add(&provider.name, prefix, &cas);
        }
        plans.push(ProviderPlan {
            namespace: provider.namespace.clone(),
            name: provider.name.clone(),
            verdict,
        });
    }
    let data = maps.into_iter().map(|(ns, n)| (ns, n.data())).collect();
    (plans, data)
}

/// One provider's verdict, and its CAs (DER) when it has some to trust.
fn resolve(
    account: &str,
    provider: &Object<ProviderSpec>,
    trust: Option<&Trust>,
    unreachable: Option<&str>,
) -> (Verdict, Option<Vec<Vec<u8>>>) {
    let spec = match &provider.spec {
        Ok(spec) => spec,
        Err(why) => return (Verdict::refused("InvalidSpec", why.clone()), None),
    };
    let Some(reference) = &spec.admiralty_reference else {
        return inline(spec);
    };
    let Some(cluster) = reference.cluster_name.as_deref().filter(|c| !c.is_empty()) else {
        return (
            Verdict::refused("InvalidSpec", "spec.admiraltyReference has no clusterName"),
            None,
        );
    };
    if !is_dns_label(cluster) {
        return (not_a_cluster_name(cluster), None);
    }
    if let Some(other) = reference.account_name.as_deref().filter(|a| *a != account) {
        return (other_account(other, account), None);
    }
    let expected = format!("spiffe://{cluster}/");
    if let Some(prefix) = spec.prefix.as_deref().filter(|p| *p != expected) {
        return (
            Verdict::refused(
                "PrefixMismatch",
                format!("spec.prefix {prefix:?} is not cluster {cluster}'s SPIFFE prefix {expected:?}: nothing of it is trusted"),
            ),
            None,
        );
    }
    let Some(trust) = trust else {
        return (flotilla_unreachable(unreachable), None);
    };
    let Some(cluster_trust) = trust.clusters.get(cluster) else {
        // Known absent only while Flotilla answers: a stale map proves nothing missing.
        if unreachable.is_some() {
            return (flotilla_unreachable(unreachable), None);
        }
        return (no_such_cluster(account, cluster), None);
    };
    let cas = cluster_trust.cas.clone();
    let verdict = Verdict::resolved(
        "Resolved",
        format!(
            "trusting {} identity CA{} of cluster {cluster} for {expected}",
            cas.len(),
            if cas.len() == 1 { "" } else { "s" }
        ),
    )
    .with("cluster", cluster)
    .with("prefix", expected)
    .with("certificateAuthorityData", bundle_data(&cas))
    .with("certificates", certificates(&cas))
    .with("spiffeSequence", cluster_trust.sequence);
    (verdict, Some(cas))
}

/// A provider without a reference: its inline CAs, checked, trusted as given.
fn inline(spec: &ProviderSpec) -> (Verdict, Option<Vec<Vec<u8>>>) {
    let (Some(prefix), Some(data)) = (&spec.prefix, &spec.certificate_authority_data) else {
        return (
            Verdict::refused(
                "InvalidSpec",
                "without spec.admiraltyReference, spec.prefix and spec.certificateAuthorityData are needed",
            ),
            None,
        );
    };
    match certificates_of(data) {
        Ok(cas) => (
            Verdict::resolved(
                "Inline",
                "the CAs are given inline: checked, not resolved by Flotilla",
            )
            .with("prefix", prefix.as_str())
            .with("certificates", certificates(&cas)),
            Some(cas),
        ),
        Err(why) => (
            Verdict::refused(
                "InvalidInline",
                format!("spec.certificateAuthorityData {why}"),
            ),
            None,
        ),
    }
}

/// The certificates (DER) of base64-encoded PEM, or what is wrong with it.
pub fn certificates_of(data: &str) -> Result<Vec<Vec<u8>>, String> {
    let pem = STANDARD
        .decode(data.trim())
        .map_err(|_| "is not base64".to_owned())?;
    let mut found = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(&pem) {
        let block = block.map_err(|e| format!("holds PEM that cannot be read ({e})"))?;
        if block.label == "CERTIFICATE" {
            X509Certificate::from_der(&block.contents)
                .map_err(|e| format!("holds a certificate that cannot be read ({e})"))?;
            found.push(block.contents);
        }
    }
    if found.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(found)
}

/// Certificates (DER) as base64 of their concatenated PEM, as kubeconfigs and Admiralty write
/// CA data.
pub fn bundle_data(cas: &[Vec<u8>]) -> String {
    STANDARD.encode(cas.iter().map(|der| pem_of(der)).collect::<String>())
}

/// What the status shows of each certificate.
fn certificates(cas: &[Vec<u8>]) -> Value {
    cas.iter()
        .map(|der| {
            let (subject, not_after) = X509Certificate::from_der(der)
                .map(|(_, c)| {
                    (
                        c.subject().to_string(),
                        rfc3339(c.validity().not_after.timestamp()),
                    )
                })
                .unwrap_or_default();
            json!({"sha256": fingerprint(der), "subject": subject, "notAfter": not_after})
        })
        .collect()
}

/// Seconds since the epoch as RFC 3339.
pub fn rfc3339(seconds: i64) -> Option<String> {
    k8s_openapi::jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The refusal of a reference to what cannot be a cluster's name.
pub fn not_a_cluster_name(cluster: &str) -> Verdict {
    Verdict::refused(
        "InvalidSpec",
        format!("clusterName {cluster:?} is not a cluster name (a DNS label: a-z, 0-9, '-')"),
    )
}

/// The refusal of a reference to another account.
pub fn other_account(other: &str, account: &str) -> Verdict {
    Verdict::refused(
        "OtherAccount",
        format!("account {other} is not this agent's account {account}: Flotilla resolves references within {account} only"),
    )
}

/// The refusal of a reference to a cluster the account does not have.
pub fn no_such_cluster(account: &str, cluster: &str) -> Verdict {
    Verdict::refused(
        "NoSuchCluster",
        format!(
            "account {account} has no cluster named {cluster} (never registered, or deregistered)"
        ),
    )
}

/// The refusal while Flotilla cannot say (not answered yet, or unreachable now).
pub fn flotilla_unreachable(why: Option<&str>) -> Verdict {
    Verdict::refused(
        "FlotillaUnreachable",
        match why {
            Some(why) => format!("Flotilla cannot be reached to resolve this: {why}"),
            None => "Flotilla has not answered yet".to_owned(),
        },
    )
}

/// The ConfigMap content of one namespace, being built.
#[derive(Default)]
struct Namespace {
    files: BTreeMap<String, String>,
    prefixes: BTreeMap<String, String>,
    bundle: Vec<Vec<u8>>,
    seen: BTreeSet<String>,
}

impl Namespace {
    fn add(&mut self, provider: &str, prefix: &str, cas: &[Vec<u8>]) {
        let file = format!("{provider}.pem");
        self.files
            .insert(file.clone(), cas.iter().map(|der| pem_of(der)).collect());
        self.prefixes.insert(prefix.to_owned(), file);
        for der in cas {
            if self.seen.insert(fingerprint(der)) {
                self.bundle.push(der.clone());
            }
        }
    }

    fn data(self) -> BTreeMap<String, String> {
        let mut data = self.files;
        data.insert(
            BUNDLE_KEY.into(),
            self.bundle.iter().map(|der| pem_of(der)).collect(),
        );
        data.insert(
            PREFIXES_KEY.into(),
            serde_json::to_string_pretty(&self.prefixes).unwrap_or_default(),
        );
        data
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
