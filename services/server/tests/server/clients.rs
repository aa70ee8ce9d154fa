//! The generated API clients (clients/typescript, clients/python) against a running Flotilla:
//! each lists clusters with an API token, registers one with a registration token, reads the
//! bundle map and receives a refusal as a typed problem. A spec that misdescribes an
//! operation fails here, in the client's own types or parsing.

use std::path::PathBuf;

use crate::support::workspace::repo;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::fleet::{identity, Fleet};

/// A registration token of `acme` for one cluster.
async fn registration_token(fleet: &Fleet) -> String {
    let r = fleet
        .call(
            Method::POST,
            &fleet.acme("/registration-tokens"),
            &fleet.admin,
            Some(json!({ "description": "a generated client" })),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.expect("JSON");
    body["token"].as_str().expect("token").to_owned()
}

/// Runs `program args` with the client's environment for `cluster`; fails with its output.
async fn exercise(fleet: &Fleet, cluster: &str, program: PathBuf, args: &[PathBuf]) {
    let (ca, _) = identity(cluster);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(&program)
            .args(args)
            .env("FLOTILLA_URL", &fleet.flotilla.url)
            .env("ACCOUNT", "acme")
            .env("CLUSTER", cluster)
            .env("API_TOKEN", &fleet.admin)
            .env("REGISTRATION_TOKEN", registration_token(fleet).await)
            .env("IDENTITY_CA", ca.pem())
            .env("PYTHONPATH", repo().join("clients/python"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("finished in time")
    .unwrap_or_else(|e| {
        panic!(
            "run {} (scripts/install-test-deps.sh installs the clients' tools): {e}",
            program.display()
        )
    });
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{}:\n{said}", program.display());
    println!("{said}");
}

#[tokio::test]
async fn the_typescript_client_lists_registers_and_reads_bundles() {
    let fleet = Fleet::start().await;
    let ts = repo().join("clients/typescript");
    // Type-checks the client and its exercise against the generated types, then builds them.
    let built = tokio::process::Command::new(ts.join("node_modules/.bin/tsc"))
        .arg("-p")
        .arg(&ts)
        .output()
        .await
        .expect("run tsc (scripts/install-test-deps.sh installs it)");
    assert!(
        built.status.success(),
        "tsc:\n{}",
        String::from_utf8_lossy(&built.stdout)
    );
    exercise(
        &fleet,
        "ts-1",
        PathBuf::from("node"),
        &[ts.join("dist/test/exercise.js")],
    )
    .await;
}

#[tokio::test]
async fn the_python_client_lists_registers_and_reads_bundles() {
    let fleet = Fleet::start().await;
    exercise(
        &fleet,
        "py-1",
        repo().join("clients/.venv/bin/python"),
        &[repo().join("clients/exercise.py")],
    )
    .await;
}
