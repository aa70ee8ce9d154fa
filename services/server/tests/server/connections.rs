//! Slow and idle clients, with real sockets against the real binary: a client that trickles
//! its headers, or opens a connection and sends nothing, or keeps one idle after a request,
//! is cut off at the header deadline while normal requests keep their latency; and beyond
//! the connection cap, new connections wait until a slot frees.

use std::time::{Duration, Instant};

use flotilla_core::testing::{ServerProcess, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::server_binary::start_ready;

async fn start(work: &std::path::Path, db: &TestDb, extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--dev", "--header-read-timeout", "2"];
    args.extend_from_slice(extra);
    start_ready(work, &args, &[("DATABASE_URL", &db.url())]).await
}

fn address(server: &ServerProcess) -> String {
    server.base_url.trim_start_matches("http://").to_owned()
}

/// Whether the server closed `socket` within `within` (end of stream or reset).
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An answer (the idle keep-alive's first): keep reading until it is closed.
            Ok(Ok(_)) => continue,
        }
    }
}

/// One `GET /healthz` on a new connection; how long it took.
async fn healthz(client: &reqwest::Client, server: &ServerProcess) -> Duration {
    let start = Instant::now();
    let r = client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 200);
    start.elapsed()
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_while_others_are_served() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let server = start(work.path(), &db, &[]).await;
    let address = address(&server);

    // 50 clients sending their headers a byte every half second, never finishing.
    let mut trickling = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let address = address.clone();
        trickling.spawn(async move {
            let mut socket = TcpStream::connect(&address).await.expect("connect");
            let started = Instant::now();
            socket
                .write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
                .await
                .expect("send");
            while socket.write_all(b"a").await.is_ok() {
                if started.elapsed() > Duration::from_secs(10) {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Some(started.elapsed())
        });
    }
    // One that sends nothing, and one that goes idle after a request.
    let mut silent = TcpStream::connect(&address).await.expect("connect");
    let mut idle = TcpStream::connect(&address).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: flotilla\r\n\r\n")
        .await
        .expect("send");

    // Meanwhile, others are served as usual (no keep-alive: a new connection each time).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    for _ in 0..20 {
        let took = healthz(&client, &server).await;
        assert!(took < Duration::from_millis(500), "{took:?}");
    }

    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a silent connection was kept"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "an idle keep-alive was kept"
    );
    while let Some(cut) = trickling.join_next().await {
        let cut = cut
            .expect("joined")
            .expect("a trickling client was never cut off");
        // Cut at the 2 s deadline (writes may succeed a little longer, into the kernel's
        // buffers, before the reset arrives).
        assert!(cut < Duration::from_secs(6), "{cut:?}");
    }
}

#[tokio::test]
async fn beyond_the_connection_cap_new_connections_wait_for_a_free_slot() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let server = start(work.path(), &db, &["--max-connections", "5"]).await;
    let address = address(&server);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(&address).await.expect("connect"));
    }
    // Let the server accept them all before the next one comes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    // The sixth waits until the idle five are cut off at the 2 s header deadline.
    let took = healthz(&client, &server).await;
    assert!(
        took > Duration::from_millis(1000),
        "served at once beyond the cap: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(held);
}
