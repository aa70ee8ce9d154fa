//! The directory service's settings: how long SPIFFE bundles' consumers may keep them. A part
//! of the server's command line.

use flotilla_core::config::{clap, parse_timeout, Seconds};

/// The directory service's settings, flattened into the server's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct DirectorySettings {
    /// Seconds a SPIFFE bundle's consumers may wait before fetching it again: the bundles'
    /// `spiffe_refresh_hint`, and the public bundles' `Cache-Control` max-age (1-3600).
    #[arg(long, env = "FLOTILLA_SPIFFE_REFRESH_HINT", default_value = "300", value_parser = parse_timeout)]
    pub spiffe_refresh_hint: Seconds,
}
