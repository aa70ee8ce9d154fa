//! One image, several layouts: `--services` splits the services across processes on one
//! database (as deploy/overlays/split does); and the operator's one-off commands:
//! `flotilla-server migrate` before a rollout, `flotilla-server rotate-signing-key`.

use std::process::Command;
use std::time::Duration;

use flotilla_core::db::MIGRATOR;
use flotilla_core::testing::{ServerProcess, TestDb};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fleet::{identity, Fleet};
use crate::support::problem::expect_problem;
use crate::support::server_binary::{binary, start_ready};

#[tokio::test]
async fn split_processes_each_serve_their_services_on_one_database() {
    // The front process: log-in, accounts, tokens, the console and clusters.
    let fleet = Fleet::start_with(&["--services", "accounts,clusters"]).await;
    // The directory and DNS process, on the same database and behind the same public URL.
    let work = tempfile::tempdir().expect("tempdir");
    let database = fleet.flotilla.database_url();
    let mut back = start_ready(
        work.path(),
        &[],
        &[
            ("DATABASE_URL", &database),
            ("FLOTILLA_PUBLIC_URL", &fleet.flotilla.url),
            ("FLOTILLA_SERVICES", "directory,dns"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let front = |path: &str| fleet.acme(path);
    let behind = |path: &str| back.url(&format!("/api/v1/accounts/acme{path}"));

    // A cluster registered through the front, with an API token issued by the front...
    let (ca, leaf) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    // ...is in the bundle map the directory serves from the other process, to that token.
    let map = fleet.get(&behind("/bundles"), &fleet.admin).await;
    assert!(
        map.to_string().contains("eu-1"),
        "the directory process sees the cluster: {map}"
    );
    // Its agent reports an endpoint to the DNS process, with an assertion for the public URL.
    let host = "hello.acme.flotilla.localhost";
    let r = fleet
        .call(
            Method::PUT,
            &behind(&format!("/clusters/eu-1/endpoints/{host}")),
            &fleet.assertion("eu-1", &leaf),
            Some(json!({ "targets": ["192.0.2.10"] })),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let endpoints = fleet
        .get(
            &behind(&format!("/dns/endpoints?host={host}")),
            &fleet.admin,
        )
        .await;
    assert_eq!(endpoints["endpoints"][0]["cluster"], "eu-1", "{endpoints}");

    // Each process answers a path of a service it does not run with 421, saying where it goes.
    let r = fleet
        .call(Method::GET, &front("/bundles"), &fleet.admin, None)
        .await;
    let problem = expect_problem(r, 421, "misdirected").await;
    let detail = problem["detail"].as_str().expect("a detail");
    assert!(
        detail.contains("directory service")
            && detail.contains("FLOTILLA_SERVICES=accounts,clusters"),
        "{detail}"
    );
    let r = fleet
        .call(Method::GET, &front("/dns/records"), &fleet.admin, None)
        .await;
    expect_problem(r, 421, "misdirected").await;
    let r = fleet
        .call(Method::GET, &behind("/clusters"), &fleet.admin, None)
        .await;
    let problem = expect_problem(r, 421, "misdirected").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("clusters service") && d.contains("directory,dns")),
        "{problem}"
    );
    let login = http
        .get(back.url("/login"))
        .send()
        .await
        .expect("a response");
    let problem = expect_problem(login, 421, "misdirected").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("accounts service")),
        "{problem}"
    );
    // An unknown path is still a 404, and the operations endpoints answer everywhere.
    let r = http
        .get(back.url("/nope"))
        .send()
        .await
        .expect("a response");
    expect_problem(r, 404, "not-found").await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        let r = http.get(back.url(path)).send().await.expect("a response");
        assert_eq!(r.status(), 200, "{path}");
    }
    // Every process publishes the whole API's document.
    let document: Value = http
        .get(back.url("/openapi.json"))
        .send()
        .await
        .expect("a response")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        document,
        serde_json::from_str::<Value>(&flotilla_server::app::openapi_json()).expect("JSON")
    );
    // Which service serves each operation is in the document (x-flotilla-service), and that
    // is what each process answers for: every operation of its services, 421 for the rest.
    let mut marked = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        let sample = path
            .replace("{account}", "acme")
            .replace("{cluster}", "eu-1")
            .replace("{host}", host)
            .replace("{sha256}", &"ab".repeat(32))
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{email}", "bob@example.com");
        for (method, operation) in item.as_object().expect("operations") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let status = http
                .request(method.clone(), back.url(&sample))
                .send()
                .await
                .expect("a response")
                .status();
            let served_here = match operation["x-flotilla-service"].as_str() {
                Some(service) => {
                    marked += 1;
                    service == "directory" || service == "dns"
                }
                None => true,
            };
            assert_eq!(
                status != 421,
                served_here,
                "{method} {sample} ({}): {status}",
                operation["x-flotilla-service"]
            );
        }
    }
    assert!(marked > 30, "most operations belong to a service: {marked}");
    back.signal(nix::sys::signal::Signal::SIGTERM);
    back.wait_exit(Duration::from_secs(30)).await;
    assert!(
        back.logs().contains("dns reconciler took the zone"),
        "the DNS process runs the reconciler:\n{}",
        back.logs()
    );
}

/// Runs `flotilla-server migrate` with `envs`; its exit code, stdout and stderr.
fn migrate(envs: &[(&str, &str)]) -> (Option<i32>, String, String) {
    run(&["migrate"], envs)
}

/// Runs `flotilla-server args` with `envs` (and nothing of the test's own settings).
fn run(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut command = Command::new(binary());
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("FLOTILLA_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    let output = command.envs(envs.iter().copied()).output().expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn migrate_applies_pending_migrations_then_finds_none_left() {
    let db = TestDb::empty().await;
    let url = db.url();
    let all = MIGRATOR.iter().count();
    // No signing secret, no provider: migrating needs the database alone.
    let (code, out, err) = migrate(&[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        out.trim(),
        format!("migrations: {all} applied now, {all} in all")
    );
    let tables = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM information_schema.tables WHERE table_name = 'clusters'"#,
    )
    .fetch_one(&db.pool)
    .await
    .expect("query");
    assert_eq!(tables, 1, "the schema is there");
    let (code, out, _) = migrate(&[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out.trim(),
        format!("migrations: 0 applied now, {all} in all")
    );
    // A server started afterwards is ready at once, with nothing to apply.
    let work = tempfile::tempdir().expect("tempdir");
    let mut server: ServerProcess = start_ready(work.path(), &[], &[("DATABASE_URL", &url)]).await;
    server.signal(nix::sys::signal::Signal::SIGTERM);
    server.wait_exit(Duration::from_secs(30)).await;

    let (code, _, err) = migrate(&[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("DATABASE_URL (--database-url) is required"),
        "{err}"
    );
}

/// The key ids `/.well-known/jwks.json` publishes.
async fn published(server: &ServerProcess) -> Vec<String> {
    let jwks: Value = reqwest::get(server.url("/.well-known/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn rotate_signing_key_replaces_the_key_and_can_change_the_wrapping_secret() {
    let db = TestDb::new().await;
    let url = db.url();
    let work = tempfile::tempdir().expect("tempdir");
    let server = start_ready(work.path(), &[], &[("DATABASE_URL", &url)]).await;
    let kid = |out: &str| {
        out.trim()
            .strip_prefix("signing key: ")
            .and_then(|rest| rest.strip_suffix(" signs from now on"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_owned()
    };
    let secret = flotilla_core::testing::TEST_WRAPPING_SECRET;
    let (code, out, err) = run(
        &["rotate-signing-key"],
        &[
            ("DATABASE_URL", &url),
            ("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET", secret),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let first = kid(&out);
    assert!(published(&server).await.contains(&first));

    // Under a new wrapping secret (how the secret is changed), retiring the others at once:
    // only the new key is published.
    let other = "YW5vdGhlci13cmFwcGluZy1zZWNyZXQtMzItYnl0ZXM=";
    let (code, out, err) = run(
        &["rotate-signing-key", "--unpublish-previous"],
        &[
            ("DATABASE_URL", &url),
            ("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET", other),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let second = kid(&out);
    assert_eq!(published(&server).await, vec![second.clone()]);

    // It needs the secret, like the server.
    let (code, _, err) = run(&["rotate-signing-key"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET"),
        "{err}"
    );
}
