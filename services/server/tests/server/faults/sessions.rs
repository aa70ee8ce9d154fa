//! Replicas on one database: the one not holding the DNS zone's lock never waits for it inside
//! Postgres, so stopping it leaves no session behind (a session blocked in
//! `pg_advisory_lock` outlived its process and held back vacuum everywhere); shutdown closes
//! every connection; the zone is taken over when its holder stops; and a one-connection pool
//! still serves, its listeners holding connections of their own.

use std::time::{Duration, Instant};

use flotilla_core::testing::TestDb;
use sqlx::{Connection, PgConnection};

use super::{replica, sessions_of, stop};

const TOOK_THE_ZONE: &str = "dns reconciler took the zone";

async fn until_logged(server: &flotilla_core::testing::ServerProcess, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.logs().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "never logged {needle:?}:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `pid` has no session left; how long that took.
async fn until_no_session(conn: &mut PgConnection, pid: i32) -> Duration {
    let start = Instant::now();
    loop {
        let left = sessions_of(conn, pid).await;
        if left.is_empty() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sessions of the stopped replica {pid} are still there: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_stopped_replica_leaves_no_session_and_the_zone_is_taken_over() {
    let db = TestDb::new().await;
    let url = db.url();
    let mut watch = PgConnection::connect(&url).await.expect("connect");
    let work = tempfile::tempdir().expect("tempdir");

    let mut holder = replica(work.path(), &url, &[]).await;
    until_logged(&holder, TOOK_THE_ZONE).await;
    let mut waiting = replica(work.path(), &url, &[]).await;
    let waiting_pid = waiting.pid();
    // Long enough for several tries at the lock.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !waiting.logs().contains(TOOK_THE_ZONE),
        "{}",
        waiting.logs()
    );
    assert!(
        !sessions_of(&mut watch, waiting_pid).await.is_empty(),
        "the second replica's sessions are named after it"
    );
    let blocked = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM pg_stat_activity WHERE datname = current_database()
           AND wait_event_type = 'Lock' AND wait_event = 'advisory'"#,
    )
    .fetch_one(&mut watch)
    .await
    .expect("count");
    assert_eq!(blocked, 0, "nobody waits for the zone inside Postgres");

    stop(&mut waiting).await;
    until_no_session(&mut watch, waiting_pid).await;

    // The zone goes on when its holder stops: a new replica takes it over.
    let mut next = replica(work.path(), &url, &[]).await;
    let holder_pid = holder.pid();
    stop(&mut holder).await;
    until_no_session(&mut watch, holder_pid).await;
    until_logged(&next, TOOK_THE_ZONE).await;
    stop(&mut next).await;
}

#[tokio::test]
async fn a_one_connection_pool_still_serves_requests() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    // Before: the three listeners took a two-connection pool and /readyz answered 503 forever.
    let mut server = replica(work.path(), &db.url(), &["--db-max-connections", "1"]).await;
    let client = reqwest::Client::new();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..20 {
        requests.spawn(client.get(server.url("/.well-known/jwks.json")).send());
    }
    while let Some(answer) = requests.join_next().await {
        let answer = answer.expect("joined").expect("answered");
        assert_eq!(answer.status(), 200);
    }
    let ready = client
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status(), 200, "{}", server.logs());
    stop(&mut server).await;
}
