//! The `flotilla-server` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use flotilla_core::config::Config;
use flotilla_core::telemetry;
use flotilla_server::{app, serve};

/// Flotilla: an open control plane for fleets of Kubernetes clusters.
#[derive(Parser)]
#[command(
    name = "flotilla-server",
    version,
    after_help = "\
Examples:
  flotilla-server --dev                       development mode, embedded Postgres in .flotilla
  DATABASE_URL=postgres://... flotilla-server  production, on an existing database
  flotilla-server openapi > openapi/openapi.json"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", app::openapi_json());
        return ExitCode::SUCCESS;
    }
    let filter = match cli
        .config
        .validate()
        .map_err(|e| e.to_string())
        .and_then(|()| telemetry::log_filter())
    {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(cli.config.log_format, filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::serve(cli.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "flotilla-server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
