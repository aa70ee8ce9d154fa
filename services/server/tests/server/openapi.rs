//! The committed OpenAPI document is the one the code produces and the server serves.

use crate::support::app::start_app;

const COMMITTED: &str = include_str!("../../../../openapi/openapi.json");

#[test]
fn committed_openapi_matches_the_code() {
    let generated = flotilla_server::app::openapi_json();
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale; regenerate it with:\n  \
         cargo run -p flotilla-server -- openapi > openapi/openapi.json"
    );
}

#[tokio::test]
async fn served_openapi_equals_the_committed_file() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let r = reqwest::get(server.url("/openapi.json"))
        .await
        .expect("request");
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.expect("text"), COMMITTED);
}

#[test]
fn every_operation_is_documented() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("valid JSON");
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().expect("paths");
    for expected in ["/healthz", "/readyz", "/metrics", "/api/v1/name-checks"] {
        assert!(paths.contains_key(expected), "{expected} missing");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} undocumented"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
    assert!(spec["components"]["schemas"]["Problem"].is_object());
}

/// Generated clients name their functions after operation ids: two alike would collide.
#[test]
fn operation_ids_are_unique() {
    let spec: serde_json::Value = serde_json::from_str(COMMITTED).expect("valid JSON");
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("an operationId");
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} names both {other} and {method} {path}");
            }
        }
    }
}
