//! Schemathesis (tests/schemathesis) over every operation of the OpenAPI document, against
//! the real binary on a real Postgres, with real path values and credentials: no input may
//! get a 5xx, and every answer must be one the document describes.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::fleet::{agent_id, body, identity};
use crate::support::server_binary::Flotilla;

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_describe() {
    let st = crate::support::workspace::repo().join("tests/schemathesis/.venv/bin/st");
    assert!(
        st.exists(),
        "{} is missing: run scripts/install-test-deps.sh",
        st.display()
    );
    let flotilla = Flotilla::start(&[]).await;
    let (ca, leaf) = identity("eu-1");
    let (status, answer) = flotilla
        .acme(
            reqwest::Method::PUT,
            "/clusters/eu-1",
            Some(body(&ca, &[("region", "eu-west-1")])),
        )
        .await;
    assert_eq!(status, 201, "register eu-1: {answer}");
    // The longest assertion the server takes (300 s): the run lasts a minute or two.
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({ "aud": flotilla.url, "sub": agent_id("eu-1"), "iat": now, "exp": now + 300 });
    let assertion = leaf.sign(leaf.default_alg(), &[], &claims);
    let document: Value = reqwest::get(format!("{}/openapi.json", flotilla.url))
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let operations: usize = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| {
            item.as_object().map_or(0, |ops| {
                ops.keys().filter(|k| METHODS.contains(&k.as_str())).count()
            })
        })
        .sum();

    let config = crate::support::workspace::repo().join("tests/schemathesis/schemathesis.toml");
    let run = tokio::process::Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run", "--checks", "all"])
        .arg(format!("{}/openapi.json", flotilla.url))
        .env("FLOTILLA_URL", &flotilla.url)
        .env("FLOTILLA_ADMIN_TOKEN", &flotilla.admin)
        .env("FLOTILLA_ASSERTION", &assertion)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis finishes within 10 minutes")
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    // Every operation was tried: a filter or a schema that selects fewer would pass vacuously.
    assert!(
        report.contains(&format!("Tested: {operations}")),
        "not all {operations} operations were tested:\n{report}"
    );
    let cases = report
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" generated"));
    let summary = report
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.starts_with('='));
    eprintln!(
        "schemathesis: {operations} operations; {}; {}",
        cases.unwrap_or("?"),
        summary.unwrap_or("?")
    );
}

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];
