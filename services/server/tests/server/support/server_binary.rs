//! The real `flotilla-server` binary, as an operator runs it: started in a work directory and
//! awaited until ready, or as a whole development deployment (on a test database, with
//! PowerDNS behind it, restartable on the same address).

use std::path::Path;
use std::time::Duration;

use flotilla_core::testing::{ServerProcess, TestDb};
use nix::sys::signal::Signal;
use reqwest::Method;
use serde_json::{json, Value};

use super::dns_peers::{settings, Pdns};
use super::free_port;
use super::oidc::Browser;

/// The `flotilla-server` binary of this build.
pub const BINARY: &str = env!("CARGO_BIN_EXE_flotilla-server");

pub fn binary() -> &'static Path {
    Path::new(BINARY)
}

/// Starts the binary in `workdir` and waits until it is ready.
pub async fn start_ready(workdir: &Path, args: &[&str], envs: &[(&str, &str)]) -> ServerProcess {
    let mut server = ServerProcess::start(binary(), workdir, args, envs);
    server.wait_ready(Duration::from_secs(60)).await;
    server
}

/// The real `flotilla-server` (development mode, on a test database, DNS in PowerDNS), with
/// the account `acme` and an owner's API token; restartable on the same address.
pub struct Flotilla {
    pub pdns: Pdns,
    db: TestDb,
    work: tempfile::TempDir,
    port: u16,
    args: Vec<String>,
    pub server: ServerProcess,
    /// `http://127.0.0.1:<port>`: its public URL.
    pub url: String,
    /// An owner's API token of `acme`.
    pub admin: String,
    http: reqwest::Client,
}

impl Flotilla {
    /// Starts it with extra `args`.
    pub async fn start(extra: &[&str]) -> Flotilla {
        let pdns = Pdns::start().await;
        let db = TestDb::new().await;
        let work = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut args: Vec<String> = vec!["--dev".into(), "--public-url".into(), url.clone()];
        args.extend(
            settings(&pdns, &pdns.api_url)
                .iter()
                .map(|s| (*s).to_owned()),
        );
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let server = Self::spawn(&work, port, &args, &db).await;
        let mut developer = Browser::new();
        developer.continue_as_developer(&url).await;
        let admin = developer.account_with_owner_token(&url, "acme").await;
        Flotilla {
            pdns,
            db,
            work,
            port,
            args,
            server,
            url,
            admin,
            http: reqwest::Client::new(),
        }
    }

    async fn spawn(
        work: &tempfile::TempDir,
        port: u16,
        args: &[String],
        db: &TestDb,
    ) -> ServerProcess {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let listen = format!("127.0.0.1:{port}");
        let mut server = ServerProcess::start(
            binary(),
            work.path(),
            &args,
            &[("DATABASE_URL", &db.url()), ("FLOTILLA_LISTEN", &listen)],
        );
        server.wait_ready(Duration::from_secs(60)).await;
        server
    }

    /// Stops the server (SIGTERM) and leaves it down.
    pub async fn stop(&mut self) {
        self.server.signal(Signal::SIGTERM);
        let status = self.server.wait_exit(Duration::from_secs(30)).await;
        assert!(
            status.is_some_and(|s| s.success()),
            "{status:?}: {}",
            self.server.logs()
        );
    }

    /// Starts it again, on the same address and database.
    pub async fn restart(&mut self) {
        self.server = Self::spawn(&self.work, self.port, &self.args, &self.db).await;
    }

    /// `method` on `/api/v1/accounts/acme<path>` as the admin; the status and JSON body.
    pub async fn acme(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1/accounts/acme{path}", self.url))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("Flotilla answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A registration token for `uses` registrations.
    pub async fn registration_token(&self, uses: u32) -> String {
        let (status, body) = self
            .acme(
                Method::POST,
                "/registration-tokens",
                Some(json!({"description": "agents", "max_uses": uses})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// The cluster, if registered.
    pub async fn cluster(&self, name: &str) -> Option<Value> {
        let (status, body) = self
            .acme(Method::GET, &format!("/clusters/{name}"), None)
            .await;
        (status == 200).then_some(body)
    }

    /// `dig` at PowerDNS: the sorted A answers for `host`.
    pub async fn dig(&self, host: &str) -> Vec<String> {
        self.pdns.dig(host, "A").await
    }
}
