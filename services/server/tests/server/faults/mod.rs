//! Faults survived cleanly, with the real binary on a real Postgres: a stopped replica leaves
//! no session behind, a small pool still serves, an unavailable database is a prompt 503,
//! parallel refreshes never need two connections at once, and clients hanging up leave no
//! transaction open.

mod cancelled;
mod outage;
mod refresh;
mod sessions;

use std::path::Path;
use std::time::Duration;

use flotilla_core::testing::ServerProcess;
use sqlx::PgConnection;

use crate::support::server_binary::start_ready;

/// Starts the binary on `database_url` with `args`, and waits until it is ready.
async fn replica(work: &Path, database_url: &str, args: &[&str]) -> ServerProcess {
    start_ready(work, args, &[("DATABASE_URL", database_url)]).await
}

/// Stops `server` as Kubernetes does (SIGTERM) and asserts a clean exit.
async fn stop(server: &mut ServerProcess) {
    server.signal(nix::sys::signal::Signal::SIGTERM);
    let status = server
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("stopped within 10 s");
    assert!(status.success(), "{status}\n{}", server.logs());
}

/// The sessions `pid`'s process has open in Postgres (they are named after it).
async fn sessions_of(conn: &mut PgConnection, pid: i32) -> Vec<(i32, Option<String>)> {
    // A view's columns all look nullable; a session listed there always has a pid.
    sqlx::query!(
        r#"SELECT pid AS "pid!", wait_event FROM pg_stat_activity
           WHERE application_name LIKE 'flotilla-server %' AND application_name LIKE $1"#,
        format!("% {pid}"),
    )
    .fetch_all(conn)
    .await
    .expect("read pg_stat_activity")
    .into_iter()
    .map(|row| (row.pid, row.wait_event))
    .collect()
}
