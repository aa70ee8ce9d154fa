//! Flotilla's shared foundation: configuration, Postgres (pool, migrations, embedded server),
//! the error model (problem+json), the HTTP stack, telemetry, validated names, and the test
//! harness (feature `test-support`).

pub mod audit;
pub mod auth;
pub mod changes;
pub mod conditional;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod http;
pub mod names;
pub mod problem;
pub mod removal;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tokens;

pub use context::AppContext;
pub use error::{Error, Result};
pub use problem::{FieldError, Problem};
