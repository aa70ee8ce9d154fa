//! Logging with `tracing`: a readable format by default, JSON with `FLOTILLA_LOG_FORMAT=json`,
//! filtered by `RUST_LOG` (`target=level` directives; default `info,sqlx=warn`).
//!
//! The filter is `Targets` rather than `EnvFilter`: `EnvFilter` supports span-field
//! directives at the price of a shared-map lookup on every span enter and exit, which made the
//! per-request span the most expensive part of the HTTP stack (`bench/foundation.sh`).

use std::any::Any;
use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::LogFormat;

/// The filter used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// The log filter from `RUST_LOG`, or the default; a malformed value is refused with the reason.
pub fn log_filter() -> Result<Targets, String> {
    match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => directives.parse().map_err(|e| {
            format!("RUST_LOG: {e}; use target=level directives such as info,flotilla_core=debug")
        }),
        _ => Ok(DEFAULT_FILTER.parse().expect("the default filter parses")),
    }
}

/// Installs the global subscriber, writing to stderr. Call once, at start-up.
pub fn init(format: LogFormat, filter: Targets) {
    // Colours only for a person at a terminal: log files and collectors get plain text, which
    // is also cheaper to format (span fields are formatted when each request starts).
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let output = match format {
        LogFormat::Human => output.boxed(),
        LogFormat::Json => output.json().flatten_event(true).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .try_init();
    // Panics are logged like everything else (one JSON object per line in JSON mode), not
    // printed raw to stderr.
    std::panic::set_hook(Box::new(|panic| {
        let location = panic
            .location()
            .map(ToString::to_string)
            .unwrap_or_default();
        let message = panic_message(panic.payload());
        tracing::error!(%location, message, "panic");
    }));
}

/// The message a panic was raised with (`panic!` payloads are a `String` or a `&str`).
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}
