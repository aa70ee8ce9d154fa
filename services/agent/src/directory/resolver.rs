//! One round of the directory half: read the resources, look up the API servers the
//! Kubeconfigs reference (one request per cluster whose bundle changed), decide every resource
//! (`kubeconfigs`, `trust`), and write what changed (`apply`), concurrently.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use flotilla_client::directory::BundleMap;
use futures_util::{stream, StreamExt};
use serde_json::Value;
use tokio::time::Instant;

use super::apply::{self, SecretOutcome, SecretWrite, Written};
use super::bundles::Known;
use super::kubeconfigs::{self, KubeconfigPlan, SecretAction, Server};
use super::resources::{self, KubeconfigSpec, Object, ProviderSpec, Watched};
use super::status::{unchanged, Verdict};
use super::{trust, Trust};
use crate::flotilla::Flotilla;
use crate::identity::ca::IdentityCa;
use crate::run::Ctx;

/// Writes to the Kubernetes API in flight at once.
const CONCURRENT_WRITES: usize = 16;
/// How long a looked-up API server is trusted without its cluster's bundle changing: a server
/// URL or CA changed without a rotation is picked up within this.
const LOOKUP_REFRESH: Duration = Duration::from_secs(3600);

/// An API server looked up for a referenced cluster: at which bundle sequence, and when.
struct Lookup {
    sequence: i64,
    at: Instant,
    server: Result<Server, String>,
}

/// What the resolver keeps between rounds.
#[derive(Default)]
pub struct Memory {
    /// The API servers looked up, by referenced cluster.
    lookups: BTreeMap<String, Lookup>,
    /// What the agent wrote.
    written: Written,
    /// The namespaces whose trusted-identities map the agent keeps.
    map_namespaces: BTreeSet<String>,
    /// The last change of the bundle map a round applied.
    applied: u64,
}

/// One round: every resource decided and written; the writes that failed, in words.
pub async fn round(
    ctx: &Ctx,
    flotilla: &Flotilla,
    ca: &IdentityCa,
    watched: &Watched,
    known: &Known,
    memory: &mut Memory,
) -> Vec<String> {
    let Memory {
        lookups,
        written,
        map_namespaces,
        applied,
    } = memory;
    let account = &ctx.config.account;
    let mut planning = Instant::now();
    let kubeconfigs: Vec<Object<KubeconfigSpec>> = watched
        .kubeconfigs
        .state()
        .iter()
        .map(|o| Object::read(o))
        .collect();
    let providers: Vec<Object<ProviderSpec>> = watched
        .providers
        .state()
        .iter()
        .map(|o| Object::read(o))
        .collect();
    let trust = known.trust.as_deref();
    if let Some(trust) = trust {
        let looking = Instant::now();
        look_up_servers(ctx, flotilla, trust, &kubeconfigs, lookups).await;
        // Waiting for Flotilla is not deciding.
        planning += looking.elapsed();
    }
    let servers: BTreeMap<String, Result<Server, String>> = lookups
        .iter()
        .map(|(cluster, l)| (cluster.clone(), l.server.clone()))
        .collect();
    let unreachable = known.unreachable.as_deref();
    let plans = kubeconfigs::plan(
        account,
        &ctx.config.cluster,
        &kubeconfigs,
        trust,
        &servers,
        unreachable,
    );
    let (provider_plans, maps) = trust::plan(account, &providers, trust, unreachable);
    ctx.metrics.directory_plan(planning.elapsed().as_secs_f64());
    let now = now();
    let mut problems = Vec::new();

    let kubeconfig_statuses: BTreeMap<(String, String), (Value, Option<i64>)> = kubeconfigs
        .iter()
        .map(|k| {
            (
                (k.namespace.clone(), k.name.clone()),
                (k.status.clone(), k.generation),
            )
        })
        .collect();
    let results: Vec<Option<String>> =
        stream::iter(plans)
            .map(|plan| {
                let (current, generation) = kubeconfig_statuses
                    .get(&(plan.namespace.clone(), plan.name.clone()))
                    .cloned()
                    .unwrap_or((Value::Null, None));
                let now = now.clone();
                let written = &*written;
                async move {
                    settle_kubeconfig(ctx, ca, written, plan, &current, generation, &now).await
                }
            })
            .buffer_unordered(CONCURRENT_WRITES)
            .collect()
            .await;
    problems.extend(results.into_iter().flatten());

    let provider_statuses: BTreeMap<(String, String), (Value, Option<i64>)> = providers
        .iter()
        .map(|p| {
            (
                (p.namespace.clone(), p.name.clone()),
                (p.status.clone(), p.generation),
            )
        })
        .collect();
    let resource = resources::trusted_identity_providers();
    let results: Vec<Option<String>> = stream::iter(provider_plans)
        .map(|plan| {
            let (current, generation) = provider_statuses
                .get(&(plan.namespace.clone(), plan.name.clone()))
                .cloned()
                .unwrap_or((Value::Null, None));
            let status = plan
                .verdict
                .status(trust::OWNED, &current, generation, &now);
            let resource = &resource;
            async move {
                if unchanged(&status, &current) {
                    return None;
                }
                ctx.metrics.directory_write("status");
                apply::write_status(&ctx.kube, resource, &plan.namespace, &plan.name, &status)
                    .await
                    .err()
            }
        })
        .buffer_unordered(CONCURRENT_WRITES)
        .collect()
        .await;
    problems.extend(results.into_iter().flatten());

    // Namespaces whose last provider went away get an empty map rather than a stale one.
    let mut maps = maps;
    for namespace in map_namespaces.iter() {
        maps.entry(namespace.clone()).or_insert_with(empty_map);
    }
    let mut writes: Vec<(&str, &str, BTreeMap<String, String>)> = maps
        .iter()
        .map(|(namespace, data)| (namespace.as_str(), trust::CONFIG_MAP, data.clone()))
        .collect();
    if let (Some(name), Some(trust)) = (&ctx.config.spiffe_bundles_configmap, trust) {
        writes.push((
            ctx.config.namespace(),
            name.as_str(),
            spiffe_bundles(&trust.map),
        ));
    }
    for (namespace, name, data) in &writes {
        match apply::write_config_map(&ctx.kube, written, namespace, name, data).await {
            Ok(true) => ctx.metrics.directory_write("configmap"),
            Ok(false) => {}
            Err(e) => problems.push(e),
        }
    }
    *map_namespaces = providers.iter().map(|p| p.namespace.clone()).collect();
    if let (true, Some(at)) = (known.changes != *applied, known.changed_at) {
        ctx.metrics.directory_change(at.elapsed().as_secs_f64());
        *applied = known.changes;
    }
    problems
}

/// The map of a namespace without providers.
fn empty_map() -> BTreeMap<String, String> {
    BTreeMap::from([
        (trust::BUNDLE_KEY.to_owned(), String::new()),
        (trust::PREFIXES_KEY.to_owned(), "{}".to_owned()),
    ])
}

/// The SPIFFE bundles ConfigMap: the bundle map, and each trust domain's bundle (a JWK Set, as
/// SPIFFE libraries and SPIRE's federation read it).
fn spiffe_bundles(map: &BundleMap) -> BTreeMap<String, String> {
    let mut data: BTreeMap<String, String> = map
        .trust_domains
        .iter()
        .map(|(domain, bundle)| {
            (
                format!("{domain}.json"),
                serde_json::to_string_pretty(bundle).unwrap_or_default(),
            )
        })
        .collect();
    data.insert(
        "bundle-map.json".into(),
        serde_json::to_string_pretty(map).unwrap_or_default(),
    );
    data
}

/// Writes one Kubeconfig's Secret as planned, then its status; the failure, if any.
async fn settle_kubeconfig(
    ctx: &Ctx,
    ca: &IdentityCa,
    written: &Written,
    plan: KubeconfigPlan,
    current: &Value,
    generation: Option<i64>,
    now: &str,
) -> Option<String> {
    let mut verdict = plan.verdict.clone();
    let secret = plan.secret.as_deref().unwrap_or_default();
    let mut failure = None;
    match &plan.action {
        SecretAction::Write {
            cluster,
            server,
            user,
        } => {
            let owner = apply::owner(&plan.name, plan.uid.as_deref());
            let want = SecretWrite {
                namespace: &plan.namespace,
                name: secret,
                owner,
                cluster,
                server,
                user,
            };
            match apply::write_secret(&ctx.kube, ca, written, want).await {
                SecretOutcome::Holds { expires, written } => {
                    if written {
                        ctx.metrics.directory_write("secret");
                        tracing::info!(namespace = %plan.namespace, secret, cluster = %cluster, "kubeconfig Secret written");
                    }
                    let expires = expires
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()
                        .and_then(|d| trust::rfc3339(d.as_secs() as i64));
                    verdict = verdict.with("clientCertificateExpiresAt", expires);
                }
                SecretOutcome::NotOurs => {
                    verdict = Verdict::refused(
                        "SecretNotOurs",
                        format!("a Secret named {secret} exists and was not made by flotilla-agent: it is left alone; name another in spec.secretName"),
                    );
                }
                SecretOutcome::Failed(why) => {
                    failure = Some(format!("Secret {}/{secret}: {why}", plan.namespace));
                    verdict = Verdict::refused(
                        "SecretNotWritten",
                        format!("the Secret {secret} cannot be written: {why}"),
                    );
                }
            }
        }
        SecretAction::Remove => {
            match apply::remove_secret(&ctx.kube, written, &plan.namespace, secret).await {
                Ok(true) => {
                    ctx.metrics.directory_write("secret");
                    tracing::info!(namespace = %plan.namespace, secret, "kubeconfig Secret removed: its cluster is gone");
                }
                Ok(false) => {}
                Err(why) => failure = Some(format!("Secret {}/{secret}: {why}", plan.namespace)),
            }
        }
        SecretAction::Leave => {}
    }
    let status = verdict.status(kubeconfigs::OWNED, current, generation, now);
    if !unchanged(&status, current) {
        ctx.metrics.directory_write("status");
        if let Err(e) = apply::write_status(
            &ctx.kube,
            &resources::kubeconfigs(),
            &plan.namespace,
            &plan.name,
            &status,
        )
        .await
        {
            return Some(format!(
                "status of Kubeconfig {}/{}: {e}",
                plan.namespace, plan.name
            ));
        }
    }
    failure
}

/// Looks up the API server of each cluster the Kubeconfigs reference, when its bundle changed
/// since the last lookup or the lookup is older than [`LOOKUP_REFRESH`]; one request per
/// cluster, concurrently.
async fn look_up_servers(
    ctx: &Ctx,
    flotilla: &Flotilla,
    trust: &Trust,
    kubeconfigs: &[Object<KubeconfigSpec>],
    lookups: &mut BTreeMap<String, Lookup>,
) {
    let account = &ctx.config.account;
    let referenced: BTreeSet<String> = kubeconfigs
        .iter()
        .filter_map(|k| {
            k.spec
                .as_ref()
                .ok()?
                .cluster
                .as_ref()?
                .admiralty_reference
                .clone()
        })
        .filter(|r| r.account_name.as_deref().is_none_or(|a| a == account))
        .filter_map(|r| r.cluster_name)
        .filter(|c| trust.clusters.contains_key(c))
        .collect();
    lookups.retain(|cluster, _| referenced.contains(cluster));
    let due: Vec<(String, i64)> = referenced
        .iter()
        .filter_map(|cluster| {
            let sequence = trust.clusters.get(cluster)?.sequence;
            let fresh = lookups.get(cluster).is_some_and(|l| {
                l.sequence == sequence && l.at.elapsed() < LOOKUP_REFRESH && l.server.is_ok()
            });
            (!fresh).then(|| (cluster.clone(), sequence))
        })
        .collect();
    let found: Vec<(String, i64, Result<Server, String>)> = stream::iter(due)
        .map(|(cluster, sequence)| async move {
            let server = flotilla
                .kubeconfig(&cluster)
                .await
                .map(|k| Server {
                    url: k.server,
                    ca_data: k.certificate_authority_data,
                })
                .map_err(|e| e.to_string());
            (cluster, sequence, server)
        })
        .buffer_unordered(CONCURRENT_WRITES)
        .collect()
        .await;
    for (cluster, sequence, server) in found {
        // A failed lookup keeps what was found before: still the best there is.
        let server = match (server, lookups.get(&cluster)) {
            (Err(_), Some(previous)) if previous.server.is_ok() => previous.server.clone(),
            (server, _) => server,
        };
        lookups.insert(
            cluster,
            Lookup {
                sequence,
                at: Instant::now(),
                server,
            },
        );
    }
}

/// Now, as Kubernetes writes times.
fn now() -> String {
    trust::rfc3339(k8s_openapi::jiff::Timestamp::now().as_second()).unwrap_or_default()
}
