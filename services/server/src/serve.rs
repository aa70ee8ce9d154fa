//! Running the server: the database (embedded or from `DATABASE_URL`), start-up migrations
//! in the background while `/healthz` already answers, and a graceful shutdown that drains
//! in-flight requests and stops the embedded Postgres.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use flotilla_accounts::Accounts;
use flotilla_core::config::Config;
use flotilla_core::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use flotilla_core::db::{self, MIGRATOR};
use flotilla_core::AppContext;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use crate::services::Services;
use crate::settings::Settings;
use crate::{app, connections};

/// How long start-up waits for the database before giving up.
const DATABASE_WAIT: Duration = Duration::from_secs(60);

/// Runs the server until SIGINT/SIGTERM (then `Ok`) or a fatal start-up error.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let config = &settings.config;
    // Signals are ours from the first moment, so one that arrives while the embedded Postgres
    // is starting still ends in a clean stop and exit 0.
    let mut signals = Signals::new()?;
    let (embedded, connect) = match &config.database_url {
        Some(url) => (None, connect_options(url)?),
        None => {
            let options = EmbeddedOptions::durable(&config.data_dir);
            let mut starting =
                tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options));
            let started = tokio::select! {
                started = &mut starting => started,
                signal = signals.next() => {
                    tracing::info!(signal, "stopping before start-up finished");
                    if let Ok(Ok(embedded)) = starting.await {
                        stop_embedded(embedded).await;
                    }
                    return Ok(());
                }
            };
            let started = started
                .context("starting the embedded Postgres")?
                .context("embedded Postgres (no DATABASE_URL is set)")?;
            let connect = started.connect_options();
            (Some(started), connect)
        }
    };
    let pool = db::lazy_pool(named(connect), config.db_max_connections);
    let listen = config.listen;
    let grace = config.shutdown_grace.0;
    let ctx = AppContext::new(config.clone(), pool.clone());
    let services = match Services::new(&settings, &ctx) {
        Ok(services) => services,
        Err(e) => {
            if let Some(embedded) = embedded {
                stop_embedded(embedded).await;
            }
            return Err(e);
        }
    };
    let router = app::build(ctx.clone(), &services);

    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("FLOTILLA_LISTEN (--listen): cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");

    let (fatal_tx, fatal_rx) = oneshot::channel::<anyhow::Error>();
    let startup = tokio::spawn(start_up_in_background(ctx.clone(), services, fatal_tx));
    let fatal = Arc::new(Mutex::new(None));
    let draining = Arc::new(Notify::new());
    let shutdown = {
        let (fatal, draining) = (fatal.clone(), draining.clone());
        let ctx_for_shutdown = ctx.clone();
        async move {
            tokio::select! {
                signal = signals.next() => {
                    tracing::info!(signal, "shutting down: draining in-flight requests (a second signal stops at once)");
                    // Whoever insists does not want to wait for the drain.
                    tokio::spawn(async move {
                        let signal = signals.next().await;
                        tracing::warn!(signal, "second signal: stopping now");
                        std::process::exit(130);
                    });
                }
                Ok(error) = fatal_rx => {
                    tracing::error!(error = format!("{error:#}"), "start-up failed; shutting down");
                    *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                }
            }
            // Long-polls answer now rather than hold the drain for up to their wait.
            ctx_for_shutdown.changes.close();
            draining.notify_one();
        }
    };
    let limits = connections::Limits {
        header_read_timeout: ctx.config.header_read_timeout.0,
        max_connections: ctx.config.max_connections,
    };
    let server = connections::serve(listener, router, limits, shutdown);
    let drained_by = tokio::select! {
        () = server => None,
        deadline = async { draining.notified().await; let deadline = Instant::now() + grace; tokio::time::sleep_until(deadline).await; deadline } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
            Some(deadline)
        }
    };

    startup.abort();
    // Requests cut off by the grace period may still hold connections: do not wait for them.
    let close_by = drained_by.unwrap_or_else(|| Instant::now() + Duration::from_secs(5));
    // Every connection goes: the listeners and the DNS zone's lock with their pool, so no
    // session of this process stays behind in Postgres.
    let closed = async { tokio::join!(pool.close(), ctx.listen_db.close()) };
    if tokio::time::timeout_at(close_by, closed).await.is_err() {
        tracing::warn!("database connections still in use; closing anyway");
    }
    if let Some(embedded) = embedded {
        stop_embedded(embedded).await;
    }
    tracing::info!("stopped");
    let error = fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
    error.map_or(Ok(()), Err)
}

fn connect_options(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url.expose_secret()).map_err(|_| {
        // The URL may hold a password: never repeat it.
        anyhow!("DATABASE_URL (--database-url): not a valid Postgres URL (postgres://user:password@host:port/database)")
    })
}

/// Names this process's sessions (`application_name`, unless the URL sets one) after its host
/// and pid, so an operator can tell in `pg_stat_activity` which replica holds which session.
fn named(connect: PgConnectOptions) -> PgConnectOptions {
    if connect.get_application_name().is_some() {
        return connect;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = format!("flotilla-server {} {}", host.trim(), std::process::id());
    connect.application_name(&name)
}

/// A pool on `DATABASE_URL` for a one-off command, once the database answers.
async fn one_off_pool(config: &Config, command: &str) -> anyhow::Result<sqlx::PgPool> {
    let url = config.database_url.as_ref().ok_or_else(|| {
        anyhow!(
            "DATABASE_URL (--database-url) is required: `{command}` works on an existing \
             database (an embedded Postgres belongs to the server that runs it)"
        )
    })?;
    let pool = db::lazy_pool(connect_options(url)?, 2);
    db::wait_for_database(&pool, DATABASE_WAIT)
        .await
        .context("the database does not answer")?;
    Ok(pool)
}

/// `flotilla-server rotate-signing-key`: retires the active token-signing key and creates
/// a new one sealed under this process's wrapping secret; with `unpublish_previous`, the
/// retired keys also stop verifying at once. Returns the new key's id.
pub async fn rotate_signing_key(
    settings: Settings,
    unpublish_previous: bool,
) -> anyhow::Result<String> {
    let pool = one_off_pool(&settings.config, "rotate-signing-key").await?;
    let ctx = AppContext::new(settings.config, pool.clone());
    let accounts = Accounts::new(&ctx.config, &settings.accounts, &ctx.metrics)
        .context("setting up the accounts service")?;
    accounts
        .signer
        .rotate_now(&ctx)
        .await
        .map_err(|e| anyhow!("rotating the signing key: {e} (is the database migrated?)"))?;
    if unpublish_previous {
        let unpublished = accounts
            .signer
            .unpublish_retired(&ctx)
            .await
            .map_err(|e| anyhow!("unpublishing the retired keys: {e}"))?;
        tracing::info!(unpublished, "retired signing keys no longer published");
    }
    let kid = sqlx::query_scalar!(
        "SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(kid)
}

/// `flotilla-server migrate`: applies the pending migrations to `DATABASE_URL` and returns
/// how many it applied. A deployment runs it before starting a new version's replicas, so a
/// failing migration stops the rollout where it shows (the replicas would apply the same
/// migrations at start, under the same advisory lock, and find nothing left to do).
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    let pool = one_off_pool(config, "migrate").await?;
    let applied = || async {
        // No table yet: nothing applied. Dynamic: `_sqlx_migrations` is the migrator's own
        // bookkeeping, made by its first run rather than by a migration, so the schema the
        // macros check against need not have it (and this query may fail by design).
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .unwrap_or(0)
    };
    let before = applied().await;
    db::migrate(&pool, &MIGRATOR)
        .await
        .context("applying migrations")?;
    let after = applied().await;
    pool.close().await;
    Ok(usize::try_from(after - before).unwrap_or(0))
}

/// Stops the embedded Postgres (a blocking wait) off the async workers.
async fn stop_embedded(embedded: EmbeddedPostgres) {
    tokio::task::spawn_blocking(move || embedded.stop())
        .await
        .ok();
}

/// Start-up work done while `/healthz` already answers: wait for the database, apply
/// `migrator`'s migrations, then declare readiness.
pub async fn start_up(ctx: &AppContext, migrator: &Migrator) -> anyhow::Result<()> {
    db::wait_for_database(&ctx.db, DATABASE_WAIT)
        .await
        .context("the database does not answer")?;
    db::migrate(&ctx.db, migrator)
        .await
        .context("applying migrations")?;
    let migrations = migrator.iter().count();
    tracing::info!(migrations, "database migrated; ready");
    ctx.readiness.set_ready();
    Ok(())
}

async fn start_up_in_background(
    ctx: AppContext,
    services: Services,
    fatal: oneshot::Sender<anyhow::Error>,
) {
    match start_up(&ctx, &MIGRATOR).await {
        Ok(()) => app::spawn_workers(&ctx, &services),
        Err(error) => {
            let _ = fatal.send(error);
        }
    }
}

/// SIGINT and SIGTERM, registered once so that none is missed between waits.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
