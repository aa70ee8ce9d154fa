//! Health, readiness and metrics, as an orchestrator and a Prometheus scraper see them.

use flotilla_core::testing::{TestDb, TestServer};
use flotilla_core::AppContext;
use sqlx::postgres::PgPoolOptions;

use crate::support::app::{build, start_app, test_settings};
use crate::support::problem::expect_problem;

#[tokio::test]
async fn readiness_waits_for_migrations_and_the_database() {
    let db = TestDb::empty().await;
    let settings = test_settings(&[]);
    let ctx = AppContext::new(settings.config.clone(), db.pool.clone());
    let server = TestServer::start(build(&settings, ctx.clone())).await;
    // The server's own start-up path, over a migration that takes a second.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow_migrations");
    let migrator = sqlx::migrate::Migrator::new(dir)
        .await
        .expect("fixture migrations");
    let starting = {
        let ctx = ctx.clone();
        tokio::spawn(async move { flotilla_server::serve::start_up(&ctx, &migrator).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let r = reqwest::get(server.url("/healthz")).await.expect("request");
    assert_eq!(r.status(), 200, "alive while migrating");
    let r = reqwest::get(server.url("/readyz")).await.expect("request");
    let body = expect_problem(r, 503, "unavailable").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("migrations"),
        "{body}"
    );

    starting.await.expect("join").expect("start-up succeeds");
    let r = reqwest::get(server.url("/readyz")).await.expect("request");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["status"],
        "ready"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let port = flotilla_core::db::embedded::free_port().expect("port");
    let nowhere = TestDb::new().await.options().port(port);
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy_with(nowhere);
    let settings = test_settings(&[]);
    let ctx = AppContext::new(settings.config.clone(), pool);
    ctx.readiness.set_ready();
    let server = TestServer::start(build(&settings, ctx)).await;
    let r = reqwest::get(server.url("/readyz")).await.expect("request");
    let body = expect_problem(r, 503, "unavailable").await;
    assert_eq!(body["detail"], "The database does not answer.");
    assert_eq!(
        reqwest::get(server.url("/healthz"))
            .await
            .expect("request")
            .status(),
        200
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let (server, _ctx, db) = start_app(&[]).await;
    for _ in 0..3 {
        reqwest::get(server.url("/healthz")).await.expect("request");
    }
    reqwest::get(server.url("/no/such/thing"))
        .await
        .expect("request");
    let r = reqwest::get(server.url("/metrics")).await.expect("request");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.expect("text");
    let has = |needle: &str| assert!(text.contains(needle), "missing {needle} in:\n{text}");
    has(
        r#"flotilla_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1"#,
    );
    has(
        r#"flotilla_http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/healthz",status="200"}"#,
    );
    has(
        r#"flotilla_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 3"#,
    );
    has(r#"flotilla_db_pool_connections{state="idle"}"#);
    has(&format!(
        r#"flotilla_build_info{{version="{}",commit="#,
        env!("CARGO_PKG_VERSION")
    ));
    has(&format!(
        "flotilla_db_pool_max_connections {}",
        db.pool.options().get_max_connections()
    ));
    assert!(
        !text.contains("/no/such/thing"),
        "unmatched paths are not labels"
    );
}
