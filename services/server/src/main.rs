//! The `flotilla-server` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use flotilla_core::telemetry;
use flotilla_server::settings::Settings;
use flotilla_server::{app, healthcheck, serve};

/// Flotilla: an open control plane for fleets of Kubernetes clusters.
#[derive(Parser)]
#[command(
    name = "flotilla-server",
    version,
    after_help = "\
Examples:
  flotilla-server --dev                       development mode, embedded Postgres in .flotilla
  DATABASE_URL=postgres://... flotilla-server  production, on an existing database
  flotilla-server openapi > openapi/openapi.json
  flotilla-server healthcheck                  exit 0 if the local server is ready (/readyz)
  DATABASE_URL=postgres://... flotilla-server migrate   apply migrations, then exit
  flotilla-server --services directory,dns     run only some services
  DATABASE_URL=postgres://... flotilla-server rotate-signing-key   a new token-signing key now"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Apply pending database migrations to DATABASE_URL and exit (for a deployment step
    /// before the new version starts; the server also migrates at start).
    Migrate,
    /// Retire the active token-signing key now and create a new one, sealed under this
    /// process's FLOTILLA_SIGNING_KEY_WRAPPING_SECRET (also how that secret is changed).
    RotateSigningKey {
        /// Also stop publishing the retired keys at once, so that the access tokens they
        /// signed stop verifying (for a key that may have leaked; clients refresh).
        #[arg(long)]
        unpublish_previous: bool,
    },
    /// Exit 0 if the server is ready (GET /readyz answers 200), 1 otherwise: the container
    /// image's health check.
    Healthcheck {
        /// What to ask (plain http://); by default /readyz on FLOTILLA_LISTEN's port over
        /// loopback.
        url: Option<url::Url>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            print!("{}", app::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Healthcheck { ref url }) => {
            let url = url
                .clone()
                .unwrap_or_else(|| healthcheck::default_url(cli.settings.config.listen));
            return match healthcheck::check(&url) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("unhealthy: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let migrating = matches!(cli.command, Some(Command::Migrate));
    // Migrating needs only the database: the rules between the serving settings (such as a
    // required signing secret) are not its business.
    let valid = if migrating {
        Ok(())
    } else {
        cli.settings.validate().map_err(|e| e.to_string())
    };
    let filter = match valid.and_then(|()| telemetry::log_filter()) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(cli.settings.config.log_format, filter);
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
    // The one-off commands say what they did on stdout; serving says nothing there.
    let done = match cli.command {
        Some(Command::Migrate) => {
            runtime
                .block_on(serve::migrate(&cli.settings.config))
                .map(|applied| {
                    let total = flotilla_core::db::MIGRATOR.iter().count();
                    format!("migrations: {applied} applied now, {total} in all")
                })
        }
        Some(Command::RotateSigningKey { unpublish_previous }) => runtime
            .block_on(serve::rotate_signing_key(cli.settings, unpublish_previous))
            .map(|kid| format!("signing key: {kid} signs from now on")),
        _ => runtime
            .block_on(serve::serve(cli.settings))
            .map(|()| String::new()),
    };
    match done {
        Ok(said) => {
            if !said.is_empty() {
                tracing::info!(result = %said, "done");
                println!("{said}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "flotilla-server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
