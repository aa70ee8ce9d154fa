//! Parallel refreshes of one log-in right after a restart (as kubectl's parallel exec plugins
//! do): the signing key is not loaded yet, and a refresh used to load it through a second
//! connection while holding the refresh token's row lock, which the other refreshes waited
//! on, each holding a connection: the pool ran dry and they failed. With a small pool every
//! one of them must succeed.

use flotilla_core::db::embedded::free_port;
use flotilla_core::testing::{ServerProcess, TestDb};

use super::stop;
use crate::support::oauth::{cli_tokens, refresh};
use crate::support::oidc::Browser;
use crate::support::server_binary::start_ready;

const PARALLEL: usize = 16;

async fn start(work: &std::path::Path, db: &TestDb, port: u16) -> ServerProcess {
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    start_ready(
        work,
        &["--dev", "--public-url", &base, "--db-max-connections", "4"],
        &[("DATABASE_URL", &db.url()), ("FLOTILLA_LISTEN", &listen)],
    )
    .await
}

/// The CLI's log-in as the developer: consent in the browser, then the code's exchange; the
/// refresh token.
async fn log_in(server: &ServerProcess) -> String {
    let mut browser = Browser::new();
    browser.continue_as_developer(&server.base_url).await;
    cli_tokens(&server.base_url, &mut browser).await["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

#[tokio::test]
async fn parallel_refreshes_after_a_restart_all_succeed_on_a_small_pool() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("a free port");
    let mut server = start(work.path(), &db, port).await;
    let refresh_token = log_in(&server).await;
    // A new process has no signing key loaded: the first refreshes load it.
    stop(&mut server).await;
    let mut server = start(work.path(), &db, port).await;

    let mut refreshes = tokio::task::JoinSet::new();
    for _ in 0..PARALLEL {
        let (base, presented) = (server.base_url.clone(), refresh_token.clone());
        refreshes.spawn(async move { refresh(&base, &presented).await });
    }
    let mut statuses = Vec::new();
    while let Some(done) = refreshes.join_next().await {
        let (status, body) = done.expect("joined");
        assert_eq!(status, 200, "{body}\n{}", server.logs());
        statuses.push(status);
    }
    assert_eq!(statuses.len(), PARALLEL);
    stop(&mut server).await;
}
