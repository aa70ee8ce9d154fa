//! The application in process, as the server builds it, over a test database.

use flotilla_core::testing::{TestDb, TestServer, TEST_WRAPPING_SECRET};
use flotilla_core::AppContext;
use flotilla_server::services::Services;
use flotilla_server::settings::Settings;

/// The server's settings parsed from `args` as the server would parse its command line
/// (variables of the environment count, as they would for the server), with the tests'
/// wrapping secret unless `args` or the environment give one, and validated.
pub fn test_settings(args: &[&str]) -> Settings {
    let secret = ["--signing-key-wrapping-secret", TEST_WRAPPING_SECRET];
    let has_secret = args
        .iter()
        .any(|a| a.starts_with("--signing-key-wrapping-secret"))
        || std::env::var_os("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET").is_some();
    let extra: &[&str] = if has_secret { &[] } else { &secret };
    let argv: Vec<&str> = extra.iter().chain(args).copied().collect();
    let settings =
        Settings::from_args(&argv).unwrap_or_else(|e| panic!("test configuration {args:?}: {e}"));
    settings
        .validate()
        .unwrap_or_else(|e| panic!("test configuration {args:?}: {e}"));
    settings
}

/// The application, ready, over a fresh database, with extra `args` for its configuration.
pub async fn start_app(args: &[&str]) -> (TestServer, AppContext, TestDb) {
    let db = TestDb::new().await;
    let settings = test_settings(args);
    let ctx = AppContext::new(settings.config.clone(), db.pool.clone());
    ctx.readiness.set_ready();
    let server = TestServer::start(build_with_workers(&settings, ctx.clone())).await;
    (server, ctx, db)
}

/// The application of `settings` over a ready `ctx` (made of `settings.config`), with its
/// background workers running (the auth-cache listener among them), as the server runs it.
pub fn build_with_workers(settings: &Settings, ctx: AppContext) -> axum::Router {
    let services = Services::new(settings, &ctx).expect("the services' states");
    flotilla_server::app::spawn_workers(&ctx, &services);
    flotilla_server::app::build(ctx, &services)
}

/// The application of `settings` over `ctx` (made of `settings.config`), as the server
/// builds it.
pub fn build(settings: &Settings, ctx: AppContext) -> axum::Router {
    let services = Services::new(settings, &ctx).expect("the services' states");
    flotilla_server::app::build(ctx, &services)
}
