//! The application in process, as the server builds it, over a test database.

use flotilla_accounts::Accounts;
use flotilla_core::testing::{test_config, TestDb, TestServer};
use flotilla_core::AppContext;

/// The application, ready, over a fresh database, with extra `args` for its configuration.
pub async fn start_app(args: &[&str]) -> (TestServer, AppContext, TestDb) {
    let db = TestDb::new().await;
    let ctx = AppContext::new(test_config(args), db.pool.clone());
    ctx.readiness.set_ready();
    let server = TestServer::start(build_with_workers(ctx.clone())).await;
    (server, ctx, db)
}

/// The application over a ready `ctx`, with its background workers running (the auth-cache
/// listener among them), as the server runs it.
pub fn build_with_workers(ctx: AppContext) -> axum::Router {
    let accounts = Accounts::new(&ctx.config).expect("the accounts service's state");
    flotilla_server::app::spawn_workers(&ctx, &accounts);
    flotilla_server::app::build(ctx, accounts)
}

/// The application over `ctx`, as the server builds it.
pub fn build(ctx: AppContext) -> axum::Router {
    let accounts = Accounts::new(&ctx.config).expect("the accounts service's state");
    flotilla_server::app::build(ctx, accounts)
}
