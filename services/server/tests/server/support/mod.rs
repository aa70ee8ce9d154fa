//! What tests of several areas share: the application in process and the real binary, the
//! `Fleet` of accounts, certificates and assertions, the OpenID provider and browser, the CLI
//! and the token service as it uses them, the DNS providers and their fault proxy, and the
//! real nginx, Prometheus and Chromium. Areas import from here, never from one another.

pub mod app;
pub mod chromium;
pub mod cli;
pub mod dns_peers;
pub mod eventually;
pub mod fleet;
pub mod nginx;
pub mod oauth;
pub mod oidc;
pub mod pki;
pub mod problem;
pub mod prometheus;
pub mod server_binary;
pub mod workspace;

/// A port free a moment ago, for a peer the test starts.
pub fn free_port() -> u16 {
    flotilla_core::db::embedded::free_port().expect("a free port")
}
