//! Running the server: the database (embedded or from `DATABASE_URL`), start-up migrations
//! in the background while `/healthz` already answers, and a graceful shutdown that drains
//! in-flight requests and stops the embedded Postgres.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use flotilla_core::config::Config;
use flotilla_core::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use flotilla_core::db::{self, MIGRATOR};
use flotilla_core::AppContext;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};

use crate::app;

/// How long start-up waits for the database before giving up.
const DATABASE_WAIT: Duration = Duration::from_secs(60);

/// Runs the server until SIGINT/SIGTERM (then `Ok`) or a fatal start-up error.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (embedded, connect) = match &config.database_url {
        Some(url) => {
            let connect = PgConnectOptions::from_str(url.expose_secret()).map_err(|_| {
                // The URL may hold a password: never repeat it.
                anyhow!("DATABASE_URL (--database-url): not a valid Postgres URL (postgres://user:password@host:port/database)")
            })?;
            (None, connect)
        }
        None => {
            let options = EmbeddedOptions::durable(&config.data_dir);
            let started = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
                .await
                .context("starting the embedded Postgres")?
                .context("embedded Postgres (no DATABASE_URL is set)")?;
            let connect = started.connect_options();
            (Some(started), connect)
        }
    };
    let pool = db::lazy_pool(connect, config.db_max_connections);
    let listen = config.listen;
    let grace = config.shutdown_grace.0;
    let ctx = AppContext::new(config, pool.clone());
    let router = app::build(ctx.clone());

    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("FLOTILLA_LISTEN (--listen): cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");

    let (fatal_tx, fatal_rx) = oneshot::channel::<anyhow::Error>();
    let startup = tokio::spawn(prepare(ctx.clone(), fatal_tx));
    let fatal = Arc::new(Mutex::new(None));
    let draining = Arc::new(Notify::new());
    let shutdown = {
        let (fatal, draining) = (fatal.clone(), draining.clone());
        async move {
            tokio::select! {
                signal = shutdown_signal() => tracing::info!(signal, "shutting down: draining in-flight requests"),
                Ok(error) = fatal_rx => {
                    tracing::error!(error = format!("{error:#}"), "start-up failed; shutting down");
                    *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                }
            }
            draining.notify_one();
        }
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(shutdown);
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        _ = async { draining.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping anyway");
        }
    }

    startup.abort();
    pool.close().await;
    if let Some(embedded) = embedded {
        tokio::task::spawn_blocking(move || embedded.stop())
            .await
            .ok();
    }
    tracing::info!("stopped");
    let error = fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
    error.map_or(Ok(()), Err)
}

/// Start-up work done while `/healthz` already answers: wait for the database, apply the
/// migrations, then declare readiness.
async fn prepare(ctx: AppContext, fatal: oneshot::Sender<anyhow::Error>) {
    let result = async {
        db::wait_for_database(&ctx.db, DATABASE_WAIT)
            .await
            .context("the database does not answer")?;
        db::migrate(&ctx.db, &MIGRATOR)
            .await
            .context("applying migrations")?;
        let migrations = MIGRATOR.iter().count();
        tracing::info!(migrations, "database migrated; ready");
        ctx.readiness.set_ready();
        anyhow::Ok(())
    }
    .await;
    if let Err(error) = result {
        let _ = fatal.send(error);
    }
}

/// Resolves on SIGINT or SIGTERM, naming the signal.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
