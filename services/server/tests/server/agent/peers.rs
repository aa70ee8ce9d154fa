//! The agent's peers in its end-to-end tests: kmock's Kubernetes API emulator (one per
//! cluster, over HTTP) and the real `flotilla-agent` binary. The server they talk to is
//! `support::server_binary::Flotilla`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::free_port;
use crate::support::server_binary::Flotilla;

/// kmock's KubernetesEmulator serving one cluster's API on 127.0.0.1; killed when dropped.
pub struct Emulator {
    _child: Child,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    http: reqwest::Client,
}

impl Emulator {
    pub async fn start() -> Emulator {
        let dir = tempfile::tempdir().expect("a temp dir");
        let repo = crate::support::workspace::repo();
        let mut child = Command::new(repo.join("tests/spiffe/.venv/bin/python"))
            .arg(repo.join("tests/kube-emulator/serve.py"))
            .arg(free_port().to_string())
            .arg(dir.path().join("kubeconfig"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the Kubernetes emulator (scripts/install-test-deps.sh installs kmock)");
        let stdout = child.stdout.take().expect("its stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the emulator starts within 30 s")
            .expect("its output")
            .expect("a READY line");
        let url = ready
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("not a READY line: {ready}"))
            .to_owned();
        Emulator {
            _child: child,
            dir,
            url,
            http: reqwest::Client::new(),
        }
    }

    /// The kubeconfig pointing at it.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(body) = body {
            request = if method == Method::PATCH {
                request
                    .header("content-type", "application/merge-patch+json")
                    .body(body.to_string())
            } else {
                request.json(&body)
            };
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates `object` in the collection at `path`; like a real API server's objects, it
    /// carries a uid and a resourceVersion (which the emulator does not add itself).
    pub async fn create(&self, path: &str, mut object: Value) {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        object["metadata"]["resourceVersion"] = json!("1");
        object["metadata"]["uid"] = json!(format!("uid-{name}-{}", uuid::Uuid::new_v4()));
        let (status, body) = self.send(Method::POST, path, Some(object)).await;
        assert!(status < 300, "create at {path}: {status} {body}");
    }

    /// Merge-patches the object at `path`.
    pub async fn patch(&self, path: &str, patch: Value) {
        let (status, body) = self.send(Method::PATCH, path, Some(patch)).await;
        assert!(status < 300, "patch {path}: {status} {body}");
    }

    /// Deletes the object at `path`.
    pub async fn delete(&self, path: &str) {
        let (status, body) = self.send(Method::DELETE, path, None).await;
        assert!(status < 300, "delete {path}: {status} {body}");
    }

    /// The object (or list) at `path`, `None` when absent.
    pub async fn get(&self, path: &str) -> Option<Value> {
        let (status, body) = self.send(Method::GET, path, None).await;
        (status == 200).then_some(body)
    }

    /// A node in `region`.
    pub async fn node(&self, name: &str, region: &str) {
        self.create(
            "/api/v1/nodes",
            json!({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": name, "labels": {"topology.kubernetes.io/region": region}},
                   "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        )
        .await;
    }

    /// A Service `name` in `namespace` with an EndpointSlice of one endpoint, ready or not.
    pub async fn backend(&self, namespace: &str, name: &str, ready: bool) {
        self.create(
            &format!("/api/v1/namespaces/{namespace}/services"),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": namespace},
                   "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}),
        )
        .await;
        self.create(
            &format!("/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"name": format!("{name}-1"), "namespace": namespace,
                                "labels": {"kubernetes.io/service-name": name}},
                   "addressType": "IPv4",
                   "endpoints": [{"addresses": ["10.1.0.1"], "conditions": {"ready": ready}}]}),
        )
        .await;
    }

    /// Marks the backend's one endpoint ready or not.
    pub async fn set_ready(&self, namespace: &str, name: &str, ready: bool) {
        self.patch(
            &format!("/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices/{name}-1"),
            json!({"endpoints": [{"addresses": ["10.1.0.1"], "conditions": {"ready": ready}}]}),
        )
        .await;
    }

    /// An Ingress `name` in `namespace` for `host` to Service `backend`, with `addresses` on
    /// its load balancer and `annotations`.
    pub async fn ingress(
        &self,
        namespace: &str,
        name: &str,
        host: &str,
        backend: &str,
        addresses: &[&str],
        annotations: Value,
    ) {
        self.create(
            &format!("/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses"),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                   "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
                   "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                            "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]},
                   "status": {"loadBalancer": {"ingress": load_balancer(addresses)}}}),
        )
        .await;
    }

    /// Sets the Ingress's load-balancer addresses.
    pub async fn set_addresses(&self, namespace: &str, name: &str, addresses: &[&str]) {
        self.patch(
            &format!("/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"),
            json!({"status": {"loadBalancer": {"ingress": load_balancer(addresses)}}}),
        )
        .await;
    }

    /// Deletes the Ingress.
    pub async fn delete_ingress(&self, namespace: &str, name: &str) {
        self.delete(&format!(
            "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"
        ))
        .await;
    }

    /// The notes of the Events (events.k8s.io) about the object `name` of `kind` in
    /// `namespace`, as `reason: note`.
    pub async fn events(&self, namespace: &str, kind: &str, name: &str) -> Vec<String> {
        let list = self
            .get(&format!(
                "/apis/events.k8s.io/v1/namespaces/{namespace}/events"
            ))
            .await
            .unwrap_or(Value::Null);
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["regarding"]["kind"] == kind && e["regarding"]["name"] == name)
            .map(|e| {
                format!(
                    "{} {}: {}",
                    e["type"].as_str().unwrap_or_default(),
                    e["reason"].as_str().unwrap_or_default(),
                    e["note"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }
}

fn load_balancer(addresses: &[&str]) -> Value {
    addresses
        .iter()
        .map(|a| {
            if a.parse::<std::net::IpAddr>().is_ok() {
                json!({"ip": a})
            } else {
                json!({"hostname": a})
            }
        })
        .collect()
}

/// A running `flotilla-agent` for one cluster; killed when dropped.
pub struct Agent {
    child: Child,
    /// Where `/healthz`, `/readyz` and `/metrics` are.
    pub base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// The registration token file (may be written while it runs).
    pub token_file: PathBuf,
}

/// How an agent is started.
pub struct AgentSetup<'a> {
    pub flotilla: &'a Flotilla,
    pub emulator: &'a Emulator,
    pub cluster: &'a str,
    /// The registration token, written to the token file before the start.
    pub token: Option<&'a str>,
    /// The pod's name (the Lease holder).
    pub pod: &'a str,
    /// Extra environment.
    pub env: &'a [(&'a str, &'a str)],
}

impl Agent {
    pub fn start(setup: AgentSetup<'_>) -> Agent {
        let dir = tempfile::tempdir().expect("a temp dir");
        let token_file = dir.path().join("token");
        if let Some(token) = setup.token {
            std::fs::write(&token_file, token).expect("write the token");
        }
        let log = dir.path().join("agent.log");
        let out = std::fs::File::create(&log).expect("the log file");
        let port = free_port();
        let mut command = Command::new(crate::support::workspace::sibling_binary(
            "flotilla-agent",
            "flotilla-agent",
        ));
        for (key, _) in std::env::vars() {
            if key.starts_with("FLOTILLA_") || key == "KUBECONFIG" || key.starts_with("POD_") {
                command.env_remove(key);
            }
        }
        command
            .env("KUBECONFIG", setup.emulator.kubeconfig())
            .env("FLOTILLA_URL", &setup.flotilla.url)
            .env("FLOTILLA_ACCOUNT", "acme")
            .env("FLOTILLA_CLUSTER", setup.cluster)
            .env("FLOTILLA_REGISTRATION_TOKEN_FILE", &token_file)
            .env("FLOTILLA_AGENT_LISTEN", format!("127.0.0.1:{port}"))
            .env("POD_NAME", setup.pod)
            .env("POD_NAMESPACE", "admiralty")
            .env("POD_UID", format!("uid-{}", setup.pod))
            .env("RUST_LOG", "info")
            .envs(setup.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log file"))
            .stderr(out)
            .kill_on_drop(true);
        let child = command.spawn().expect("start flotilla-agent");
        Agent {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
            token_file,
        }
    }

    /// Its log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
        }
    }

    /// Waits for it to exit; its status.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .ok()?
            .ok()
    }

    /// `/readyz`: the status and the JSON body (`None` while it does not listen).
    pub async fn readyz(&self) -> Option<(u16, Value)> {
        let r = reqwest::get(format!("{}/readyz", self.base)).await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// The value of `series` in `/metrics` (0 when absent).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = match reqwest::get(format!("{}/metrics", self.base)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        crate::support::prometheus::metric(&text, series).unwrap_or(0.0)
    }
}
