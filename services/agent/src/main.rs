//! `flotilla-agent`: Flotilla's agent in one Kubernetes cluster. It holds the cluster's
//! identity CA, registers the cluster, heartbeats, and reports the cluster's Ingresses and
//! annotated LoadBalancer Services as endpoints of global DNS.
//!
//! Exit codes: 0 stopped by SIGTERM or SIGINT, 1 a failure retrying cannot fix (no
//! Kubernetes configuration, the listen address taken), 2 a wrong setting, 130 a second
//! signal during shutdown.

mod backoff;
mod config;
mod directory;
mod endpoints;
mod flotilla;
mod heartbeat;
mod identity;
mod k8s;
mod observe;
mod registration;
mod run;

use std::process::ExitCode;
use std::str::FromStr;

use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::{Config, LogFormat};

fn main() -> ExitCode {
    let config = Config::parse();
    init_logs(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping: releasing the Lease, finishing the calls in flight");
            let _ = stop_tx.send(true);
            wait_for_signal().await;
            tracing::warn!("second signal: stopping now");
            std::process::exit(130);
        });
        match run::run(config, stop).await {
            Ok(()) => {
                // Let the Lease's release reach the API server.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "flotilla-agent cannot run");
                ExitCode::FAILURE
            }
        }
    })
}

/// Waits for SIGTERM or SIGINT.
async fn wait_for_signal() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Logs to stderr, readable or JSON, filtered by `RUST_LOG` (`info` by default).
fn init_logs(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| Targets::from_str(&v).ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Human => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .init();
}
