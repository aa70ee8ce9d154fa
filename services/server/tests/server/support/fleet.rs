//! `Fleet`: a development-mode Flotilla with the accounts `acme` and `other`, and what tests
//! of every area do with it: registration bodies, cluster identities, status events, and
//! checks of refusals.

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::oidc::Flotilla;
use super::pki::{self, Alg, Ca, Leaf};

/// A development-mode Flotilla with two accounts, `acme` and `other`, each with an owner's
/// API token.
pub struct Fleet {
    pub flotilla: Flotilla,
    pub http: reqwest::Client,
    /// Owner token of `acme`.
    pub admin: String,
    /// Owner token of `other`.
    pub other_admin: String,
}

impl Fleet {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra server arguments.
    pub async fn start_with(args: &[&str]) -> Self {
        Self::start_serving(args, true).await
    }

    /// Serving the API only: the background workers (DNS reconciler, heartbeat sweeper) run
    /// in another process on the same database.
    pub async fn api_only(args: &[&str]) -> Self {
        Self::start_serving(args, false).await
    }

    async fn start_serving(args: &[&str], workers: bool) -> Self {
        let port = flotilla_core::db::embedded::free_port().expect("a free port");
        let mut all = vec!["--dev"];
        all.extend_from_slice(args);
        let flotilla = Flotilla::start_serving(port, &all, workers).await;
        let mut developer = flotilla.developer().await;
        developer.create_account(&flotilla.url, "acme").await;
        developer.create_account(&flotilla.url, "other").await;
        let token = |v: Value| v["token"].as_str().expect("a token").to_owned();
        let admin = token(
            developer
                .create_token(&flotilla.url, "acme", "owner", 1)
                .await,
        );
        let other_admin = token(
            developer
                .create_token(&flotilla.url, "other", "owner", 1)
                .await,
        );
        Fleet {
            flotilla,
            http: reqwest::Client::new(),
            admin,
            other_admin,
        }
    }

    /// The URL of `path` under `/api/v1/accounts/acme`.
    pub fn acme(&self, path: &str) -> String {
        self.flotilla.at(&format!("/api/v1/accounts/acme{path}"))
    }

    /// Sends `method` to `url` with bearer `token` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("a response")
    }

    /// `GET url` with bearer `token`, as JSON.
    pub async fn get(&self, url: &str, token: &str) -> Value {
        self.call(Method::GET, url, token, None)
            .await
            .json()
            .await
            .expect("JSON")
    }

    /// `PUT` a cluster of `acme` with `body`.
    pub async fn put(&self, cluster: &str, token: &str, body: Value) -> Response {
        self.call(
            Method::PUT,
            &self.acme(&format!("/clusters/{cluster}")),
            token,
            Some(body),
        )
        .await
    }

    /// Registers `cluster` of `acme` with identity CA `ca` as the admin; the answer.
    pub async fn register(&self, cluster: &str, ca: &Ca) -> Value {
        let r = self
            .put(cluster, &self.admin, body(ca, &[("region", "eu-west-1")]))
            .await;
        assert_eq!(r.status(), 201, "register {cluster}");
        r.json().await.expect("JSON")
    }

    /// Registers `cluster` of `acme` again with identity CA `ca` as the admin (a rotation).
    pub async fn register_again(&self, cluster: &str, ca: &Ca) -> Value {
        let r = self
            .put(cluster, &self.admin, body(ca, &[("region", "eu-west-1")]))
            .await;
        assert_eq!(r.status(), 200, "register {cluster} again");
        r.json().await.expect("JSON")
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let r = self.http.get(self.flotilla.at("/metrics")).send().await;
        r.expect("metrics").text().await.expect("text")
    }

    /// Deregisters `cluster` of `acme` with `token`.
    pub async fn deregister(&self, cluster: &str, token: &str) -> Response {
        let url = self.acme(&format!("/clusters/{cluster}"));
        self.call(Method::DELETE, &url, token, None).await
    }

    /// Asks `acme` to stop trusting identity CA `ca` of `cluster`, with `token`.
    pub async fn remove_identity_ca(&self, cluster: &str, ca: &Ca, token: &str) -> Response {
        let path = format!(
            "/clusters/{cluster}/identity-cas/{}",
            pki::fingerprint(&ca.der())
        );
        self.call(Method::DELETE, &self.acme(&path), token, None)
            .await
    }

    /// A heartbeat of `cluster` of `account` with `assertion`.
    pub async fn heartbeat(&self, account: &str, cluster: &str, assertion: &str) -> Response {
        self.call(
            Method::POST,
            &self.flotilla.at(&format!(
                "/api/v1/accounts/{account}/clusters/{cluster}/heartbeat"
            )),
            assertion,
            Some(json!({ "agent_version": "0.17.2" })),
        )
        .await
    }

    /// `cluster` of `acme` as its admin reads it.
    pub async fn cluster(&self, cluster: &str) -> Value {
        self.get(&self.acme(&format!("/clusters/{cluster}")), &self.admin)
            .await
    }

    /// An assertion of `cluster`'s agent for this server, signed by `leaf`.
    pub fn assertion(&self, cluster: &str, leaf: &Leaf) -> String {
        leaf.assertion(&self.flotilla.url, &agent_id(cluster), &[])
    }
}

/// The status transitions of `cluster` of `acme` (`ready → stale`, ...), newest first.
pub async fn status_events(fleet: &Fleet, cluster: &str) -> Vec<String> {
    let events: Value = fleet
        .get(
            &fleet.acme(&format!("/clusters/{cluster}/events")),
            &fleet.admin,
        )
        .await;
    events["events"]
        .as_array()
        .unwrap_or_else(|| panic!("events: {events}"))
        .iter()
        .filter(|e| e["kind"] == "status")
        .filter_map(|e| e["detail"].as_str().map(str::to_owned))
        .collect()
}

/// Polls until `cluster`'s status transitions are `want` (newest first), for at most 15 s.
pub async fn wait_for_events(fleet: &Fleet, cluster: &str, want: &[&str]) {
    for _ in 0..150 {
        if status_events(fleet, cluster).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {want:?}, got {:?}",
        status_events(fleet, cluster).await
    );
}

/// The SPIFFE ID of `cluster`'s agent.
pub fn agent_id(cluster: &str) -> String {
    format!("spiffe://{cluster}/ns/admiralty/id/agent")
}

/// A registration body with identity CA `ca` (also the server CA) and `labels`.
pub fn body(ca: &Ca, labels: &[(&str, &str)]) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "identity_ca": ca.pem(),
        "server": "https://203.0.113.10:6443",
        "labels": labels,
    })
}

/// A CA and an agent leaf of `cluster` under it.
pub fn identity(cluster: &str) -> (Ca, Leaf) {
    let ca = Ca::root(&format!("{cluster} identity CA"), Alg::P256);
    let leaf = ca.leaf(&agent_id(cluster), Alg::P256);
    (ca, leaf)
}

/// The detail of a problem response with `status`, after checking it is problem+json.
pub async fn refused(response: Response, status: u16) -> Value {
    let slug = match status {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        409 => "conflict",
        412 => "precondition-failed",
        422 => "validation",
        other => panic!("no slug for {other}"),
    };
    super::problem::expect_problem(response, status, slug).await
}

/// The problem of a 422 answer, after checking that one of its errors is about `field`.
pub async fn refused_at(response: Response, field: &str) -> Value {
    let problem = refused(response, 422).await;
    assert!(
        problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["field"] == field),
        "expected an error at {field}: {problem}"
    );
    problem
}
