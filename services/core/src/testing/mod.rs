//! The test harness (feature `test-support`): one throwaway Postgres per test binary, a fresh
//! database per test cloned from a migrated template, the app served in-process on port 0, and
//! the real binary started as a child process.
//!
//! Set `DATABASE_URL` (a superuser's URL) to use an existing server instead of a throwaway one.

mod binary;
mod postgres;

pub use binary::ServerProcess;
pub use postgres::{TestDb, TestPostgres};

use std::net::SocketAddr;

use axum::Router;
use clap::Parser;

use crate::config::Config;

/// The key-wrapping secret tests use unless they pass their own (32 bytes, base64).
pub const TEST_WRAPPING_SECRET: &str = "dGVzdC1vbmx5LXdyYXBwaW5nLXNlY3JldC0zMmJ5dGU=";

#[derive(Parser)]
struct ConfigOnly {
    #[command(flatten)]
    config: Config,
}

/// The shared configuration parsed from `args` as the server would parse its command line
/// (variables of the environment count, as they would for the server), and validated. The
/// services' own settings are the server's: its tests parse the whole command line.
pub fn test_config(args: &[&str]) -> Config {
    let argv = std::iter::once("flotilla-server").chain(args.iter().copied());
    let config = ConfigOnly::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("test configuration {args:?}: {e}"))
        .config;
    config
        .validate()
        .unwrap_or_else(|e| panic!("test configuration {args:?}: {e}"));
    config
}

/// An application served in-process on an ephemeral port, stopped when dropped.
pub struct TestServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Serves `router` on 127.0.0.1 with an ephemeral port.
    pub async fn start(router: Router) -> Self {
        Self::start_at(0, router).await
    }

    /// Serves `router` on 127.0.0.1:`port` (0: an ephemeral one), for tests that must know
    /// the address before building the application (its public URL).
    pub async fn start_at(port: u16, router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the test port");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        Self {
            addr,
            base_url: format!("http://{addr}"),
            task,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
