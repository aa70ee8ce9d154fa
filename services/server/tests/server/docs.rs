//! The API reference renders in a real browser with no network beyond the server.

use std::time::Duration;

use crate::support::app::start_app;
use crate::support::chromium::chromium;

#[tokio::test]
async fn api_reference_renders_offline_in_chromium() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let profile = tempfile::tempdir().expect("tempdir");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // The network is off: no name but the server's address resolves.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=20000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(server.url("/docs/"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished in time")
    .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    // Only Swagger UI's scripts, run in the page, turn the spec into operation blocks.
    assert!(dom.contains("Flotilla API"), "title not rendered:\n{dom}");
    for path in ["/healthz", "/readyz", "/api/v1/name-checks"] {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "operation {path} not rendered:\n{dom}"
        );
    }
}
