//! Clients that hang up mid-request (wrk at the end of a run, a CLI killed with ^C, a proxy's
//! timeout). A request dropped between sending `BEGIN` and reading its answer used to return
//! its connection to the pool inside a transaction that nobody would finish: the next
//! requests' statements ran in it uncommitted, holding their row locks, and heartbeats of
//! those clusters stalled behind them. Requests now run to their end whoever hangs up.

use std::time::{Duration, Instant};

use flotilla_core::db::embedded::free_port;
use sqlx::{Connection, PgConnection};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::oidc::Flotilla;

/// Sessions of the test's database left inside a transaction for longer than any request
/// of ours keeps one (a stranded transaction waits for the connection's next user).
async fn stranded(watch: &mut PgConnection) -> i64 {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM pg_stat_activity WHERE datname = current_database()
           AND state LIKE 'idle in transaction%' AND now() - state_change > interval '200 ms'"#,
    )
    .fetch_one(watch)
    .await
    .expect("read pg_stat_activity")
}

/// Sends `request` on a new connection and hangs up after `after`, answered or not.
async fn hang_up(port: u16, request: String, after: Duration) {
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    socket.write_all(request.as_bytes()).await.expect("send");
    tokio::time::sleep(after).await;
    drop(socket);
}

#[tokio::test]
async fn clients_hanging_up_mid_request_leave_no_transaction_open() {
    let port = free_port().expect("a free port");
    // Two connections: every stranded one would be met again at once.
    let flotilla = Flotilla::start_on(port, &["--dev", "--db-max-connections", "2"]).await;
    let token = flotilla
        .developer()
        .await
        .account_with_owner_token(&flotilla.url, "acme")
        .await;
    let mut watch = PgConnection::connect(&flotilla.database_url())
        .await
        .expect("connect");

    // Creating a registration token: a transaction of several statements (the token, the
    // audit entry).
    let request = |description: &str| {
        let body = serde_json::json!({ "description": description }).to_string();
        format!(
            "POST /api/v1/accounts/acme/registration-tokens HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    for burst in 0..20u64 {
        let mut cut = tokio::task::JoinSet::new();
        for i in 0..50u64 {
            // Hang-ups spread over the first 20 ms, where the transaction begins.
            let after = Duration::from_micros((i * 397 + burst * 71) % 20_000);
            cut.spawn(hang_up(port, request(&format!("t-{burst}-{i}")), after));
        }
        cut.join_all().await;
        // What a hang-up stranded stays stranded while nobody uses the pool.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            stranded(&mut watch).await,
            0,
            "after burst {burst}, a session is left inside a transaction"
        );
    }

    // And the API goes on answering promptly.
    let client = reqwest::Client::new();
    for _ in 0..10 {
        let start = Instant::now();
        let r = client
            .get(flotilla.at("/api/v1/accounts/acme/tokens"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered");
        assert_eq!(r.status(), 200);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }
}
