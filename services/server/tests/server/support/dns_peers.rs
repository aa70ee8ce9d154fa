//! The DNS providers the tests run against, as child processes: PowerDNS (one per test, with
//! its own database) and moto's Route53 (one per test binary; each test makes its own hosted
//! zone). And a fault-injecting HTTP proxy to put in front of either.

use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::free_port;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::process::{Child, Command};

/// A PowerDNS authoritative server with a fresh database; killed when dropped.
pub struct Pdns {
    _child: Child,
    _dir: tempfile::TempDir,
    /// Port answering DNS.
    pub dns_port: u16,
    /// `http://127.0.0.1:<port>/` of the HTTP API.
    pub api_url: String,
    /// The API key.
    pub key: String,
}

impl Pdns {
    pub async fn start() -> Pdns {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (dns_port, api_port) = (free_port(), free_port());
        let key = "test-pdns-key".to_owned();
        let child = Command::new("bash")
            .arg(
                super::workspace::repo()
                    .join("tests/dns-peers/pdns.sh")
                    .display()
                    .to_string(),
            )
            .arg(dir.path().join("pdns"))
            .arg(dns_port.to_string())
            .arg(api_port.to_string())
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start pdns_server (scripts/install-test-deps.sh installs it)");
        let api_url = format!("http://127.0.0.1:{api_port}/");
        let http = reqwest::Client::new();
        for _ in 0..300 {
            let ready = http
                .get(format!("{api_url}api/v1/servers/localhost"))
                .header("X-API-Key", &key)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return Pdns {
                    _child: child,
                    _dir: dir,
                    dns_port,
                    api_url,
                    key,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pdns_server did not start within 15 s");
    }

    /// Sends `body` to the API's `path` with `method`; the status and the body.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .request(
                method,
                format!("{}api/v1/servers/localhost/{path}", self.api_url),
            )
            .header("X-API-Key", &self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the PowerDNS API");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// `dig +short` for `name` and `rtype`: the answers, sorted.
    pub async fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &self.dns_port.to_string(),
                "+short",
                "+tries=1",
                "+time=1",
                name,
                rtype,
            ])
            .output()
            .await
            .expect("dig (dnsutils)");
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

/// moto's server (Route53), one per test binary, started on first use and stopped when the
/// test process exits (a watchdog shell kills it).
pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The proxy in front of it, which `AWS_ENDPOINT_URL_ROUTE_53` names.
    pub proxy: FaultProxy,
}

static MOTO: tokio::sync::OnceCell<Moto> = tokio::sync::OnceCell::const_new();

impl Moto {
    pub async fn shared() -> &'static Moto {
        MOTO.get_or_init(|| async {
            let port = free_port();
            let script = super::workspace::repo()
                .join("tests/dns-peers/moto.sh")
                .display()
                .to_string();
            // The watchdog outlives no test run: it stops moto when this process is gone.
            let watchdog = format!(
                "bash {script} {port} >/dev/null 2>&1 & child=$!; \
                 while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $child",
                parent = std::process::id()
            );
            let mut child = std::process::Command::new("bash")
                .args(["-c", &watchdog])
                .stdin(Stdio::null())
                .spawn()
                .expect("start moto");
            // Reaped by a thread; the watchdog itself ends with this process.
            std::thread::spawn(move || child.wait());
            let url = format!("http://127.0.0.1:{port}");
            let http = reqwest::Client::new();
            for _ in 0..600 {
                if http
                    .get(format!("{url}/moto-api/"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    let proxy = FaultProxy::start(&url);
                    // The AWS settings of the environment, read by the Route53 provider as in
                    // production; set once, before any test builds a provider.
                    std::env::set_var("AWS_ENDPOINT_URL_ROUTE_53", &proxy.url);
                    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
                    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
                    std::env::set_var("AWS_REGION", "us-east-1");
                    return Moto { url, proxy };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("moto did not start within 30 s (scripts/install-test-deps.sh installs it)");
        })
        .await
    }
}

/// What the proxy does to requests matching a fault.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer 503 to everything.
    Down,
    /// Answer the next `n` change requests with Route53's `Throttling`.
    Throttle(usize),
    /// Refuse change requests mentioning `name` with Route53's `InvalidChangeBatch`.
    Refuse(String),
    /// Pass change requests on, then answer 502 as if the answer was lost on the way back.
    LoseAnswers(usize),
    /// Hold every request this long before passing it on (a slow provider).
    Delay(Duration),
    /// Pass the next `n` change requests on at once, then hold their answers this long (a
    /// provider that applies a change but answers late, or a client gone before it answers).
    HoldAnswers(usize, Duration),
}

struct ProxyState {
    target: String,
    /// Faults, each for requests whose path contains its filter (a zone).
    faults: Mutex<Vec<(String, Fault)>>,
    changes_seen: Mutex<Vec<String>>,
    http: reqwest::Client,
}

/// An HTTP proxy to a provider that injects faults into requests of a zone, and records the
/// change requests it passes. Runs on its own thread, so it
/// outlives the test that starts it.
pub struct FaultProxy {
    /// Where to send requests instead of the provider.
    pub url: String,
    state: Arc<ProxyState>,
}

impl FaultProxy {
    pub fn start(target: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let state = Arc::new(ProxyState {
            target: target.trim_end_matches('/').to_owned(),
            faults: Mutex::new(Vec::new()),
            changes_seen: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                axum::serve(listener, app).await.expect("the proxy");
            });
        });
        FaultProxy { url, state }
    }

    /// Sets the faults of requests whose path contains `zone` (replacing its earlier ones).
    pub fn set(&self, zone: &str, faults: Vec<Fault>) {
        let mut all = self.state.faults.lock().expect("faults");
        all.retain(|(z, _)| z != zone);
        all.extend(faults.into_iter().map(|f| (zone.to_owned(), f)));
    }

    /// How many change requests that reached the provider mention `needle`.
    pub fn sent(&self, needle: &str) -> usize {
        let seen = self.state.changes_seen.lock().expect("seen");
        seen.iter().filter(|body| body.contains(needle)).count()
    }
}

fn route53_error(code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>proxy</RequestId></ErrorResponse>"
    );
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "text/xml")],
        body,
    )
        .into_response()
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers: HeaderMap = request.headers().clone();
    let body: Bytes = axum::body::to_bytes(request.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let is_change = method == Method::POST || method == Method::PATCH;
    let mut lose_answer = false;
    let mut delay = None;
    let mut hold = None;
    {
        let mut faults = state.faults.lock().expect("faults");
        let text = String::from_utf8_lossy(&body);
        for (_, fault) in faults
            .iter_mut()
            .filter(|(zone, _)| path.contains(zone.as_str()))
        {
            match fault {
                Fault::Down => return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
                Fault::Throttle(n) if is_change && *n > 0 => {
                    *n -= 1;
                    return route53_error("Throttling", "Rate exceeded");
                }
                Fault::Refuse(name) if is_change && text.contains(name.as_str()) => {
                    return route53_error(
                        "InvalidChangeBatch",
                        &format!("[RRSet with DNS name {name} is not permitted]"),
                    );
                }
                Fault::LoseAnswers(n) if is_change && *n > 0 => {
                    *n -= 1;
                    lose_answer = true;
                }
                Fault::Delay(d) => delay = Some(*d),
                Fault::HoldAnswers(n, d) if is_change && *n > 0 => {
                    *n -= 1;
                    hold = Some(*d);
                }
                _ => {}
            }
        }
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut outgoing = state
        .http
        .request(method, format!("{}{path}", state.target))
        .body(body.clone());
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(response) = outgoing.send().await else {
        return (StatusCode::BAD_GATEWAY, "the provider is unreachable").into_response();
    };
    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = response.headers().get("content-type").cloned();
    let bytes = response.bytes().await.unwrap_or_default();
    if is_change && status.is_success() {
        state
            .changes_seen
            .lock()
            .expect("seen")
            .push(String::from_utf8_lossy(&body).into_owned());
    }
    if let Some(d) = hold {
        tokio::time::sleep(d).await;
    }
    if lose_answer {
        return (StatusCode::BAD_GATEWAY, "the answer was lost").into_response();
    }
    let mut out = (status, bytes).into_response();
    if let Some(ct) = content_type {
        out.headers_mut().insert("content-type", ct);
    }
    out
}

/// The PowerDNS zone Flotilla writes in (the default base domain).
pub const ZONE: &str = "flotilla.localhost.";

/// The settings of a Flotilla using `pdns` through `api_url` (its proxy).
pub fn settings<'a>(pdns: &'a Pdns, api_url: &'a str) -> [&'a str; 6] {
    [
        "--dns-provider",
        "pdns",
        "--pdns-api-url",
        api_url,
        "--pdns-api-key",
        &pdns.key,
    ]
}

/// Creates Flotilla's (empty) zone in `pdns`.
pub async fn create_zone(pdns: &Pdns) {
    let (status, body) = pdns
        .api(
            Method::POST,
            "zones",
            Some(json!({ "name": ZONE, "kind": "Native" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}
