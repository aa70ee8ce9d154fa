//! The directory half: Admiralty's `Kubeconfig` and `TrustedIdentityProvider`, as the seed
//! tutorial writes them (deploy/agent/examples/tutorial.yaml), resolved by the agents of a
//! management cluster and a workload cluster; rotations and deregistrations followed within a
//! second through the bundle map's long-poll; refusals said in status.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::peers::{Agent, AgentSetup, Emulator};
use super::*;
use crate::support::pki::{Alg, Ca};
use crate::support::server_binary::Flotilla;

const KUBECONFIGS: &str = "/apis/multicluster.admiralty.io/v1alpha1/namespaces/default/kubeconfigs";
const PROVIDERS: &str =
    "/apis/multicluster.admiralty.io/v1alpha1/namespaces/default/trustedidentityproviders";
const TRUSTED: &str = "/api/v1/namespaces/default/configmaps/flotilla-trusted-identities";

/// The tutorial's two objects (names only changed: `$cluster_name` is `us-west-2`).
fn tutorial() -> (Value, Value) {
    let path = crate::support::workspace::repo().join("deploy/agent/examples/tutorial.yaml");
    let out = Command::new(crate::support::workspace::repo().join("tests/spiffe/.venv/bin/python"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(&path)
        .output()
        .expect("python with PyYAML (scripts/install-test-deps.sh)");
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the tutorial's YAML");
    let find = |kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("the tutorial has a {kind}"))
    };
    let (mut kubeconfig, mut provider) = (find("Kubeconfig"), find("TrustedIdentityProvider"));
    // `kubectl apply` puts them in the current namespace.
    kubeconfig["metadata"]["namespace"] = json!("default");
    provider["metadata"]["namespace"] = json!("default");
    (kubeconfig, provider)
}

/// Waits until the object at `path` has a `Resolved` condition of `status` and `reason`.
async fn condition(emulator: &Emulator, path: &str, status: &str, reason: &str) -> Value {
    eventually(
        Duration::from_secs(20),
        &format!("{path}: Resolved={status} ({reason})"),
        || async {
            let object = emulator.get(path).await?;
            let c = &object["status"]["conditions"][0];
            (c["status"] == status && c["reason"] == reason).then_some(object)
        },
    )
    .await
}

/// How long until `check` holds, polling fast; at most `within`.
async fn time_until<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within {within:?}: {what}");
}

/// The SHA-256 of DER, lower-case hex, as Flotilla shows fingerprints.
fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn certificates(object: &Value) -> usize {
    object["status"]["certificates"]
        .as_array()
        .map_or(0, Vec::len)
}

fn pem_count(map: &Value, key: &str) -> usize {
    map["data"][key]
        .as_str()
        .map_or(0, |pem| pem.matches("BEGIN CERTIFICATE").count())
}

#[tokio::test]
async fn the_tutorials_resources_resolve_and_follow_rotations_within_a_second() {
    let flotilla = Flotilla::start(&[]).await;
    let token = flotilla.registration_token(2).await;
    let (management, workload) = (Emulator::start().await, Emulator::start().await);
    management.node("m1", "us-east-1").await;
    workload.node("w1", "us-west-2").await;
    // The workload's agent also keeps the SPIFFE bundles in a ConfigMap (off by default).
    let bundles_env = [("FLOTILLA_SPIFFE_BUNDLES_CONFIGMAP", "spiffe-bundles")];
    let agents: Vec<Agent> = [
        (&management, "management", &[][..]),
        (&workload, "us-west-2", &bundles_env[..]),
    ]
    .into_iter()
    .map(|(emulator, cluster, env)| {
        Agent::start(AgentSetup {
            flotilla: &flotilla,
            emulator,
            cluster,
            token: Some(&token),
            pod: cluster,
            env,
        })
    })
    .collect();
    for agent in &agents {
        ready(agent, Duration::from_secs(60)).await;
    }

    // The tutorial's lines, applied as written.
    let (kubeconfig, provider) = tutorial();
    management.create(KUBECONFIGS, kubeconfig).await;
    workload.create(PROVIDERS, provider).await;

    // The Kubeconfig: resolved, and its Secret's kubeconfig reaches us-west-2 as
    // spiffe://management/ns/default/id/default, certified by management's identity CA.
    let resolved = condition(
        &management,
        &format!("{KUBECONFIGS}/us-west-2"),
        "True",
        "Resolved",
    )
    .await;
    let status = &resolved["status"];
    assert_eq!(status["cluster"], "us-west-2");
    assert_eq!(status["server"], workload.url, "{status}");
    assert!(status["clientCertificateExpiresAt"].is_string(), "{status}");
    let secret = management
        .get("/api/v1/namespaces/default/secrets/us-west-2")
        .await
        .expect("the Secret the Kubeconfig names");
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    let config = STANDARD
        .decode(secret["data"]["config"].as_str().expect("its config"))
        .expect("base64");
    std::fs::write(file.path(), &config).expect("write the kubeconfig");
    let out = Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(file.path())
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view: Value = serde_json::from_slice(&out.stdout).expect("kubectl's JSON");
    assert_eq!(view["current-context"], "us-west-2");
    assert_eq!(view["clusters"][0]["cluster"]["server"], workload.url);
    let client_pem = STANDARD
        .decode(
            view["users"][0]["user"]["client-certificate-data"]
                .as_str()
                .expect("a client certificate"),
        )
        .expect("base64");
    let (_, block) = x509_parser::pem::parse_x509_pem(&client_pem).expect("PEM");
    let (_, client) = X509Certificate::from_der(&block.contents).expect("a certificate");
    let registered = flotilla.cluster("management").await.expect("management");
    let management_ca = management
        .get("/api/v1/namespaces/admiralty/secrets/flotilla-identity-ca")
        .await
        .expect("management's CA Secret");
    let ca_pem = STANDARD
        .decode(management_ca["data"]["tls.crt"].as_str().expect("tls.crt"))
        .expect("base64");
    let (_, ca_block) = x509_parser::pem::parse_x509_pem(&ca_pem).expect("PEM");
    let (_, ca) = X509Certificate::from_der(&ca_block.contents).expect("the CA");
    client
        .verify_signature(Some(ca.public_key()))
        .expect("the client certificate chains to management's identity CA");
    assert_eq!(
        registered["identity_cas"][0]["sha256"],
        sha256_hex(&ca_block.contents),
        "that CA is the one Flotilla has registered"
    );
    let uris: Vec<String> = client
        .subject_alternative_name()
        .expect("SANs")
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::URI(u) => Some((*u).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(uris, ["spiffe://management/ns/default/id/default"]);

    // The TrustedIdentityProvider: management's CA, in its status and the namespace's map.
    let provider_path = format!("{PROVIDERS}/management");
    let trusted = condition(&workload, &provider_path, "True", "Resolved").await;
    assert_eq!(certificates(&trusted), 1, "{trusted}");
    assert_eq!(
        trusted["status"]["certificates"][0]["sha256"],
        registered["identity_cas"][0]["sha256"]
    );
    let map = workload
        .get(TRUSTED)
        .await
        .expect("the trusted identities ConfigMap");
    assert_eq!(pem_count(&map, "management.pem"), 1, "{map}");
    assert_eq!(pem_count(&map, "ca-bundle.pem"), 1);
    let prefixes: Value =
        serde_json::from_str(map["data"]["prefixes.json"].as_str().unwrap_or("{}")).expect("JSON");
    assert_eq!(prefixes["spiffe://management/"], "management.pem");

    // The SPIFFE bundles, for meshes: the bundle map, and each trust domain's bundle.
    let bundles_path = "/api/v1/namespaces/admiralty/configmaps/spiffe-bundles";
    let bundles = eventually(
        Duration::from_secs(10),
        "the SPIFFE bundles ConfigMap",
        || async { workload.get(bundles_path).await },
    )
    .await;
    let bundle_map: Value =
        serde_json::from_str(bundles["data"]["bundle-map.json"].as_str().unwrap_or("{}"))
            .expect("JSON");
    assert_eq!(
        bundle_map["trust_domains"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["management".to_owned(), "us-west-2".to_owned()])
    );
    let management_bundle: Value =
        serde_json::from_str(bundles["data"]["management.json"].as_str().unwrap_or("{}"))
            .expect("JSON");
    let x5c = STANDARD
        .decode(
            management_bundle["keys"][0]["x5c"][0]
                .as_str()
                .expect("an x509-svid key"),
        )
        .expect("base64");
    assert_eq!(sha256_hex(&x5c), sha256_hex(&ca_block.contents));

    // management rotates its identity CA: within a second, both CAs are trusted.
    let new_ca = Ca::root("management identity CA 2", Alg::P256);
    let (status_code, body) = flotilla
        .acme(
            Method::PUT,
            "/clusters/management",
            Some(json!({"identity_ca": new_ca.pem(), "server": registered["server"]})),
        )
        .await;
    assert_eq!(status_code, 200, "{body}");
    assert_eq!(body["outcome"], "rotated");
    let took = time_until(Duration::from_secs(10), "both CAs trusted", || async {
        let status_two = workload
            .get(&provider_path)
            .await
            .is_some_and(|p| certificates(&p) == 2);
        let map_two = workload
            .get(TRUSTED)
            .await
            .is_some_and(|m| pem_count(&m, "management.pem") == 2);
        status_two && map_two
    })
    .await;
    eprintln!("a rotation reached the TrustedIdentityProvider and its ConfigMap in {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    eventually(
        Duration::from_secs(5),
        "both CAs in the SPIFFE bundle",
        || async {
            let map = workload.get(bundles_path).await?;
            let bundle: Value =
                serde_json::from_str(map["data"]["management.json"].as_str()?).ok()?;
            (bundle["keys"]
                .as_array()?
                .iter()
                .filter(|k| k["use"] == "x509-svid")
                .count()
                == 2)
                .then_some(())
        },
    )
    .await;

    // us-west-2 rotates too: its API server's CA was its identity CA, so the Kubeconfig's
    // Secret follows within a second.
    let west = flotilla.cluster("us-west-2").await.expect("us-west-2");
    let west_ca = Ca::root("us-west-2 identity CA 2", Alg::P256);
    let (status_code, body) = flotilla
        .acme(
            Method::PUT,
            "/clusters/us-west-2",
            Some(json!({"identity_ca": west_ca.pem(), "server": west["server"]})),
        )
        .await;
    assert_eq!(status_code, 200, "{body}");
    let expected_ca = STANDARD.encode(west_ca.pem());
    let took = time_until(
        Duration::from_secs(10),
        "the Secret has the new server CA",
        || async {
            let Some(secret) = management
                .get("/api/v1/namespaces/default/secrets/us-west-2")
                .await
            else {
                return false;
            };
            let config: Value = secret["data"]["config"]
                .as_str()
                .and_then(|c| STANDARD.decode(c).ok())
                .and_then(|c| serde_json::from_slice(&c).ok())
                .unwrap_or_default();
            config["clusters"][0]["cluster"]["certificate-authority-data"] == expected_ca.as_str()
        },
    )
    .await;
    eprintln!("a server CA change reached the Kubeconfig's Secret in {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let now = management
        .get(&format!("{KUBECONFIGS}/us-west-2"))
        .await
        .expect("the Kubeconfig");
    assert_eq!(now["status"]["caFingerprint"], sha256_hex(&west_ca.der()));

    // A cluster deregistered (eu-west-3, registered by an admin, which a second Kubeconfig
    // references): the Kubeconfig says so, and its Secret is gone. (Before the old CA goes:
    // management's agent still signs with it.)
    let third = Ca::root("eu-west-3 identity CA", Alg::P256);
    let (status_code, _) = flotilla
        .acme(
            Method::PUT,
            "/clusters/eu-west-3",
            Some(crate::support::fleet::body(
                &third,
                &[("region", "eu-west-3")],
            )),
        )
        .await;
    assert_eq!(status_code, 201);
    management
        .create(
            KUBECONFIGS,
            json!({"apiVersion": "multicluster.admiralty.io/v1alpha1", "kind": "Kubeconfig",
                   "metadata": {"name": "eu-west-3", "namespace": "default"},
                   "spec": {"secretName": "eu-west-3", "cluster": {"admiraltyReference": {"clusterName": "eu-west-3"}}}}),
        )
        .await;
    condition(
        &management,
        &format!("{KUBECONFIGS}/eu-west-3"),
        "True",
        "Resolved",
    )
    .await;
    assert!(management
        .get("/api/v1/namespaces/default/secrets/eu-west-3")
        .await
        .is_some());
    let (status_code, _) = flotilla
        .acme(Method::DELETE, "/clusters/eu-west-3", None)
        .await;
    assert_eq!(status_code, 204);
    let gone = condition(
        &management,
        &format!("{KUBECONFIGS}/eu-west-3"),
        "False",
        "NoSuchCluster",
    )
    .await;
    assert!(
        gone["status"]["conditions"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("eu-west-3")),
        "{gone}"
    );
    eventually(Duration::from_secs(5), "the Secret removed", || async {
        management
            .get("/api/v1/namespaces/default/secrets/eu-west-3")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // The old one removed: within a second, only the new one.
    let old = registered["identity_cas"][0]["sha256"]
        .as_str()
        .expect("the old CA")
        .to_owned();
    let (status_code, _) = flotilla
        .acme(
            Method::DELETE,
            &format!("/clusters/management/identity-cas/{old}"),
            None,
        )
        .await;
    assert_eq!(status_code, 204);
    let took = time_until(
        Duration::from_secs(10),
        "only the new CA trusted",
        || async {
            let one = workload
                .get(&provider_path)
                .await
                .is_some_and(|p| certificates(&p) == 1);
            let map_one = workload
                .get(TRUSTED)
                .await
                .is_some_and(|m| pem_count(&m, "ca-bundle.pem") == 1);
            one && map_one
        },
    )
    .await;
    eprintln!("a CA removal reached the TrustedIdentityProvider and its ConfigMap in {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let now = workload.get(&provider_path).await.expect("the provider");
    assert_eq!(
        now["status"]["certificates"][0]["sha256"],
        sha256_hex(&new_ca.der())
    );

    drop(agents);
}

#[tokio::test]
async fn refusals_are_said_in_status_and_nothing_else_is_written() {
    let mut flotilla = Flotilla::start(&[]).await;
    let token = flotilla.registration_token(1).await;
    let management = Emulator::start().await;
    management.node("m1", "us-east-1").await;
    let agent = Agent::start(AgentSetup {
        flotilla: &flotilla,
        emulator: &management,
        cluster: "management",
        token: Some(&token),
        pod: "management",
        env: &[],
    });
    ready(&agent, Duration::from_secs(60)).await;
    let kubeconfig = |name: &str, secret: &str, reference: Value| {
        json!({"apiVersion": "multicluster.admiralty.io/v1alpha1", "kind": "Kubeconfig",
               "metadata": {"name": name, "namespace": "default"},
               "spec": {"secretName": secret, "cluster": {"admiraltyReference": reference}}})
    };

    // Another account's cluster: refused, nothing written.
    management
        .create(
            KUBECONFIGS,
            kubeconfig(
                "theirs",
                "theirs",
                json!({"clusterName": "eu-1", "accountName": "other"}),
            ),
        )
        .await;
    condition(
        &management,
        &format!("{KUBECONFIGS}/theirs"),
        "False",
        "OtherAccount",
    )
    .await;
    assert!(management
        .get("/api/v1/namespaces/default/secrets/theirs")
        .await
        .is_none());

    // A prefix that is not the cluster's.
    management
        .create(
            PROVIDERS,
            json!({"apiVersion": "multicluster.admiralty.io/v1alpha1", "kind": "TrustedIdentityProvider",
                   "metadata": {"name": "wrong", "namespace": "default"},
                   "spec": {"prefix": "spiffe://elsewhere/", "admiraltyReference": {"clusterName": "management"}}}),
        )
        .await;
    let wrong = condition(
        &management,
        &format!("{PROVIDERS}/wrong"),
        "False",
        "PrefixMismatch",
    )
    .await;
    assert_eq!(certificates(&wrong), 0);
    // The agent writes statuses before the maps of the same pass.
    time_until(Duration::from_secs(10), "the namespace's map", || async {
        management.get(TRUSTED).await.is_some()
    })
    .await;
    let map = management.get(TRUSTED).await.expect("the namespace's map");
    assert_eq!(
        pem_count(&map, "ca-bundle.pem"),
        0,
        "nothing trusted: {map}"
    );

    // A Secret of that name that someone else made: left alone.
    management
        .create(
            "/api/v1/namespaces/default/secrets",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "taken", "namespace": "default"},
                   "data": {"config": STANDARD.encode("mine")}}),
        )
        .await;
    management
        .create(
            KUBECONFIGS,
            kubeconfig("own", "taken", json!({"clusterName": "management"})),
        )
        .await;
    condition(
        &management,
        &format!("{KUBECONFIGS}/own"),
        "False",
        "SecretNotOurs",
    )
    .await;
    let taken = management
        .get("/api/v1/namespaces/default/secrets/taken")
        .await
        .expect("the Secret");
    assert_eq!(
        taken["data"]["config"],
        STANDARD.encode("mine"),
        "untouched"
    );

    // Flotilla down: a new Kubeconfig says so; the agent keeps running.
    flotilla.stop().await;
    management
        .create(
            KUBECONFIGS,
            kubeconfig("later", "later", json!({"clusterName": "nowhere"})),
        )
        .await;
    let later = condition(
        &management,
        &format!("{KUBECONFIGS}/later"),
        "False",
        "FlotillaUnreachable",
    )
    .await;
    assert!(later["status"]["resolved"] == false, "{later}");
    flotilla.restart().await;
    condition(
        &management,
        &format!("{KUBECONFIGS}/later"),
        "False",
        "NoSuchCluster",
    )
    .await;
    assert!(agent.readyz().await.is_some(), "still serving");
}
