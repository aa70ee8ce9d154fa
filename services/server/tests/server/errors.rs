//! Every error, whoever produces it, is problem+json with a stable type.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use flotilla_core::http::serve_stack;
use flotilla_core::testing::{test_config, TestDb, TestServer};
use flotilla_core::{AppContext, Error};

use crate::support::app::start_app;
use crate::support::problem::expect_problem;

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let r = reqwest::get(server.url("/nope")).await.expect("request");
    let body = expect_problem(r, 404, "not-found").await;
    assert_eq!(body["detail"], "There is nothing at /nope.");
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let r = reqwest::Client::new()
        .delete(server.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert!(r.headers().get("allow").is_some(), "Allow header kept");
    let body = expect_problem(r, 405, "method-not-allowed").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("DELETE"),
        "{body}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413_problems() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let client = reqwest::Client::new();
    let two_mib = vec![b'x'; 2 * 1024 * 1024];
    // With a Content-Length, to a JSON endpoint and to an unknown path alike.
    for path in ["/api/v1/name-checks", "/nope"] {
        let r = client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(two_mib.clone())
            .send()
            .await
            .expect("request");
        let body = expect_problem(r, 413, "payload-too-large").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("1048576 bytes"),
            "{body}"
        );
    }
    // Streamed without a Content-Length: refused while reading.
    let answer = chunked_post(server.addr, "/api/v1/name-checks", 32, 64 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

/// POSTs `chunks` chunks of `size` spaces with chunked transfer encoding; returns the answer.
async fn chunked_post(
    addr: std::net::SocketAddr,
    path: &str,
    chunks: usize,
    size: usize,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before everything is sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn json_errors_are_problems() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let client = reqwest::Client::new();
    let post = |body: &'static str, content_type: &'static str| {
        client
            .post(server.url("/api/v1/name-checks"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let r = post("{\"kind\": \"account\", ", "application/json")
        .await
        .expect("request");
    let body = expect_problem(r, 400, "bad-request").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("JSON"),
        "{body}"
    );

    let r = post(
        "{\"kind\": \"planet\", \"name\": \"x\"}",
        "application/json",
    )
    .await
    .expect("request");
    let body = expect_problem(r, 422, "validation").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("planet"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["field"], "/kind", "{body}");

    let r = post("{\"kind\": \"account\"}", "application/json")
        .await
        .expect("request");
    let body = expect_problem(r, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "/name", "{body}");
    assert_eq!(body["errors"][0]["message"], "is required", "{body}");

    let r = post("kind=account", "application/x-www-form-urlencoded")
        .await
        .expect("request");
    expect_problem(r, 415, "unsupported-media-type").await;
}

/// A stack around routes that misbehave, to see the stack contain them.
async fn misbehaving_app() -> (TestServer, TestDb, AppContext) {
    let db = TestDb::new().await;
    let ctx = AppContext::new(test_config(&["--request-timeout", "1"]), db.pool.clone());
    let routes = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("secret panic internals");
                }
                "unreachable"
            }),
        )
        .route(
            "/fail",
            post(|| async {
                Err::<(), _>(Error::Internal(anyhow::anyhow!("secret failure internals")))
            }),
        )
        .route(
            "/raw500",
            get(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "secret raw internals",
                )
            }),
        );
    (TestServer::start(serve_stack(routes, &ctx)).await, db, ctx)
}

/// Log lines written on this thread while the guard lives (a `#[tokio::test]` runs the server
/// on the test's own thread).
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

#[tokio::test]
async fn timeouts_and_failures_are_problems_without_internals() {
    let (server, db, ctx) = misbehaving_app().await;
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let client = reqwest::Client::new();

    let started = std::time::Instant::now();
    let r = client
        .get(server.url("/slow"))
        .send()
        .await
        .expect("request");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut at the 1 s timeout"
    );
    let body = expect_problem(r, 504, "timeout").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("1 s"),
        "{body}"
    );

    for (method, path) in [("GET", "/panic"), ("POST", "/fail"), ("GET", "/raw500")] {
        let r = client
            .request(method.parse().expect("method"), server.url(path))
            .send()
            .await
            .expect("request");
        let body = expect_problem(r, 500, "internal").await;
        assert!(
            !body.to_string().contains("secret"),
            "{path} leaked: {body}"
        );
    }
    // The causes are in the log, with the request they belong to.
    let log = logs.text();
    for cause in [
        "secret failure internals",
        "secret panic internals",
        "secret raw internals",
    ] {
        assert!(log.contains(cause), "{cause} not logged:\n{log}");
    }
    assert!(log.contains("path=/fail"), "{log}");
    // Metrics keep the route of requests that timed out or panicked.
    let metrics = ctx.metrics.render(&db.pool);
    for series in [
        r#"route="/slow",status="504""#,
        r#"route="/panic",status="500""#,
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    // The server survived the panic.
    let r = client
        .get(server.url("/slow"))
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 504);
}

#[tokio::test]
async fn request_ids_are_made_or_propagated() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let client = reqwest::Client::new();
    let r = client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("request");
    let id = r.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let r = client
        .get(server.url("/nope"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("request");
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
    let body = expect_problem(r, 404, "not-found").await;
    assert_eq!(body["request_id"], "trace-me-42");
}

#[tokio::test]
async fn name_checks_explain_refusals() {
    let (server, _ctx, _db) = start_app(&["--dns-base-domain", "fleet.example.com"]).await;
    let client = reqwest::Client::new();
    let check = |kind: &'static str, name: &'static str| {
        let request = client
            .post(server.url("/api/v1/name-checks"))
            .json(&serde_json::json!({"kind": kind, "name": name}));
        async move {
            let response = request.send().await.expect("request");
            response.json::<serde_json::Value>().await.expect("json")
        }
    };
    let ok = check("account", "acme").await;
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["domain"], "acme.fleet.example.com");
    let reserved = check("account", "www").await;
    assert_eq!(reserved["valid"], false);
    assert_eq!(reserved["reason"], "'www' is reserved");
    let cluster = check("cluster", "eu-west-1").await;
    assert_eq!(cluster["domain"], "spiffe://eu-west-1/");
    let bad = check("cluster", "Bad_Name").await;
    assert_eq!(bad["reason"], "must be lower case");
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let r = reqwest::Client::new()
        .get(server.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn paths_and_queries_that_cannot_name_anything_are_400_problems() {
    let (server, _ctx, _db) = start_app(&[]).await;
    let client = reqwest::Client::new();
    for (path, says) in [
        ("/api/v1/accounts/%FF", "not UTF-8"),
        ("/api/v1/accounts/acme/clusters/eu-1%00", "NUL"),
        ("/spiffe/%00/%00/bundle", "NUL"),
        (
            "/api/v1/accounts/acme/dns/endpoints?host=%00",
            "query string",
        ),
        (
            "/api/v1/accounts/acme/dns/records?host=a%00",
            "query string",
        ),
        ("/api/v1/accounts/acme/dns/changes?host=%00", "query string"),
    ] {
        let r = client.get(server.url(path)).send().await.expect("request");
        let body = expect_problem(r, 400, "bad-request").await;
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{path}: {body}");
    }
    // Percent-encoded UTF-8 is a name like any other: not refused at the edge (a 401 here,
    // from the API's authentication).
    let r = client
        .get(server.url("/api/v1/accounts/%C3%A9t%C3%A9"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_a_408_problem() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (server, _ctx, _db) = start_app(&["--request-timeout", "1"]).await;
    let address = server.url("").trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
        .await
        .expect("connect");
    // 100 bytes announced, 10 sent, and the connection kept open.
    socket
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: flotilla\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
              grant_type",
        )
        .await
        .expect("send");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&answer).contains("\r\n\r\n{") {
            let n = socket.read(&mut chunk).await.expect("read");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        answer.contains("urn:flotilla:problem:request-timeout"),
        "{answer}"
    );
}

#[tokio::test]
async fn request_bodies_are_objects_with_unique_keys_and_no_nul() {
    use crate::support::oidc::Flotilla;

    let flotilla = Flotilla::dev().await;
    let token = flotilla
        .developer()
        .await
        .account_with_owner_token(&flotilla.url, "acme")
        .await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: &'static str| {
        client
            .request(method, flotilla.at(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let account = || async {
        let r = client
            .get(flotilla.at("/api/v1/accounts/acme"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        r.json::<serde_json::Value>().await.expect("JSON")
    };
    let before = account().await;

    for (method, path, body, field) in [
        // Read in order into the settings' fields, this turned public bundles on.
        (
            reqwest::Method::PATCH,
            "/api/v1/accounts/acme",
            "[true, 60]",
            "",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/accounts/acme/registration-tokens",
            r#"["d", 3600, 1, {}]"#,
            "",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/name-checks",
            r#"["account", "x"]"#,
            "",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/accounts/acme/registration-tokens",
            r#"{"description": "d", "labels": {"region": "eu", "region": "us"}}"#,
            "/labels/region",
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/accounts/acme/clusters/eu-1",
            r#"{"server": "https://203.0.113.10:6443\u0000", "identity_ca": "x"}"#,
            "/server",
        ),
    ] {
        let r = send(method.clone(), path, body).await.expect("request");
        let problem = expect_problem(r, 422, "validation").await;
        assert_eq!(
            problem["errors"][0]["field"], field,
            "{method} {path}: {problem}"
        );
    }
    assert_eq!(account().await, before, "a refused body changed nothing");
    let tokens: serde_json::Value = client
        .get(flotilla.at("/api/v1/accounts/acme/registration-tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(tokens.as_array().map(Vec::len), Some(0), "{tokens}");
}

#[tokio::test]
async fn requests_hyper_cannot_parse_get_its_empty_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (server, _ctx, _db) = start_app(&[]).await;
    let address = server.url("").trim_start_matches("http://").to_owned();
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: f\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: f\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-H{i}: {}\r\n", "v".repeat(1000)))
            .collect::<String>()
    );
    for (request, status) in [
        (long_uri, "414"),
        (many_headers, "431"),
        ("NOT HTTP AT ALL\r\n\r\n".to_owned(), "400"),
    ] {
        let mut socket = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
            .await
            .expect("connect");
        // The server may answer and close before reading all of it.
        let _ = socket.write_all(request.as_bytes()).await;
        // Its head is all there is: read until it ends (or the server closes).
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        let answer = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(
            answer.starts_with(&format!("http/1.1 {status}")),
            "{answer}"
        );
        assert!(answer.contains("content-length: 0"), "{answer}");
    }
}
