//! Postgres stopped under a running server: API requests are answered 503 with `Retry-After`
//! (the first after the pool's acquire timeout, the rest at once), never 500; the operations
//! endpoints say what they know; and service resumes by itself once Postgres is back.

use std::time::{Duration, Instant};

use flotilla_core::db::embedded::{free_port, EmbeddedOptions, EmbeddedPostgres};
use nix::sys::signal::Signal;

use super::{replica, stop};

async fn start_postgres(options: &EmbeddedOptions) -> EmbeddedPostgres {
    let options = options.clone();
    tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
        .await
        .expect("joined")
        .expect("start Postgres")
}

async fn stop_postgres(postgres: EmbeddedPostgres) {
    tokio::task::spawn_blocking(move || postgres.stop())
        .await
        .expect("joined");
}

/// The status, `Retry-After`, problem type and time of one answer.
async fn answer(client: &reqwest::Client, url: &str) -> (u16, Option<String>, String, Duration) {
    let start = Instant::now();
    let r = client.get(url).send().await.expect("answered");
    let took = start.elapsed();
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    let kind = body["type"].as_str().unwrap_or_default().to_owned();
    (status, retry_after, kind, took)
}

#[tokio::test]
async fn an_unavailable_database_is_a_prompt_503_and_service_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions {
        data_dir: dir.path().join("postgres"),
        durable: false,
        max_connections: 50,
        port: Some(free_port().expect("a free port")),
        on_parent_death: Signal::SIGQUIT,
    };
    let postgres = start_postgres(&options).await;
    let url = postgres.database_url("postgres");
    let work = tempfile::tempdir().expect("tempdir");
    let mut server = replica(work.path(), &url, &[]).await;
    let client = reqwest::Client::new();
    let (jwks, bundle) = (
        server.url("/.well-known/jwks.json"),
        server.url("/spiffe/acme/eu-1/bundle"),
    );
    assert_eq!(answer(&client, &jwks).await.0, 200);

    stop_postgres(postgres).await;
    let (status, retry_after, kind, took) = answer(&client, &jwks).await;
    assert_eq!(status, 503, "{}", server.logs());
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(kind, "urn:flotilla:problem:unavailable");
    assert!(
        took < Duration::from_secs(3),
        "the first answer took {took:?}"
    );
    // Now known to be away: answered at once, whatever the path.
    let mut slowest = Duration::ZERO;
    for url in [&jwks, &bundle].into_iter().cycle().take(20) {
        let (status, retry_after, kind, took) = answer(&client, url).await;
        assert_eq!((status, retry_after.as_deref()), (503, Some("1")), "{url}");
        assert_eq!(kind, "urn:flotilla:problem:unavailable");
        slowest = slowest.max(took);
    }
    assert!(
        slowest < Duration::from_millis(250),
        "slowest answer while away: {slowest:?}"
    );
    let health = client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(health.status(), 200, "alive, if not ready");
    let ready = client
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status(), 503);

    let postgres = start_postgres(&options).await;
    let back = Instant::now();
    loop {
        let (status, ..) = answer(&client, &jwks).await;
        if status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "still {status} 5 s after Postgres came back:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        answer(&client, &bundle).await.0,
        404,
        "served again (no such account)"
    );
    let logs = server.logs();
    assert!(
        !logs.contains("ERROR"),
        "an outage is not an error of ours:\n{logs}"
    );
    assert!(logs.contains("the database cannot be reached"), "{logs}");
    stop(&mut server).await;
    stop_postgres(postgres).await;
}
