//! End-to-end tests of flotilla-server: in-process against a real Postgres, and the real
//! binary as an operator runs it.

mod accounts;
mod agent;
mod binary;
mod cli;
mod clients;
mod clusters;
mod connections;
mod console;
mod contract;
mod directory;
mod dns;
mod docs;
mod errors;
mod faults;
mod fuzz;
mod migrations;
mod monitoring;
mod observability;
mod openapi;
mod proxies;
mod services;
mod walkthrough;

use flotilla_accounts::Accounts;
use flotilla_core::testing::{test_config, TestDb, TestServer};
use flotilla_core::AppContext;

/// The repository's root (scripts, fixtures and web/ live there).
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary of the workspace built next to the test binary (`scripts/test.sh` builds the CLI
/// and the agent first).
pub fn sibling_binary(name: &str, package: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {package}` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The application, ready, over a fresh database, with extra `args` for its configuration.
pub async fn start_app(args: &[&str]) -> (TestServer, AppContext, TestDb) {
    let db = TestDb::new().await;
    let ctx = AppContext::new(test_config(args), db.pool.clone());
    ctx.readiness.set_ready();
    let server = TestServer::start(build_with_workers(ctx.clone())).await;
    (server, ctx, db)
}

/// The application over a ready `ctx`, with its background workers running (the auth-cache
/// listener among them), as the server runs it.
pub fn build_with_workers(ctx: AppContext) -> axum::Router {
    let accounts = Accounts::new(&ctx.config).expect("the accounts service's state");
    flotilla_server::app::spawn_workers(&ctx, &accounts);
    flotilla_server::app::build(ctx, accounts)
}

/// The application over `ctx`, as the server builds it.
pub fn build(ctx: AppContext) -> axum::Router {
    let accounts = Accounts::new(&ctx.config).expect("the accounts service's state");
    flotilla_server::app::build(ctx, accounts)
}

/// Asserts a response is a problem document with `status` and `type` slug; returns the body.
pub async fn expect_problem(
    response: reqwest::Response,
    status: u16,
    slug: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: serde_json::Value = response.json().await.expect("a JSON problem");
    assert_eq!(
        body["type"],
        format!("urn:flotilla:problem:{slug}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body["request_id"].as_str(), request_id.as_deref(), "{body}");
    body
}
