//! The configuration contract of ARCHITECTURE.md: every setting is a flag and an environment
//! variable, parsed into typed values at start-up. A wrong value is refused with a message that
//! names the setting (flag and variable) and says what is allowed.
//!
//! Here are the settings every service needs ([`Config`]: the database, which services run,
//! the listener, the public URL, HTTP limits, proxies, logs) and the value parsers every
//! service's settings use. Each service defines its own settings beside its code
//! (`flotilla_accounts::settings`, `flotilla_clusters::settings`,
//! `flotilla_directory::settings`, `flotilla_dns::settings`); the server flattens them all
//! into one command line (`flotilla_server::settings`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, ValueEnum};
use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

use crate::http::client_addr::ForwardedHeader;

/// The clap the services' settings derive `Args` with: they are parts of the server's one
/// command line, so they are built by the same clap as [`Config`], through core, which every
/// service already depends on.
pub use clap;

/// Settings shared by every Flotilla service, flattened into the server's command line.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Postgres URL. Unset: start an embedded Postgres in the data directory.
    #[arg(long, env = "DATABASE_URL", value_parser = parse_secret, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// The services this process runs, comma-separated: `accounts` (log-in, sign-up,
    /// members, tokens, the token service, the console), `clusters`, `directory`, `dns`.
    /// One image runs as one process or as deployments scaled separately; every service must
    /// run somewhere. Paths of a service not run here answer 421.
    #[arg(long, env = "FLOTILLA_SERVICES", value_enum, value_delimiter = ',', default_values_t = Service::ALL)]
    pub services: Vec<Service>,

    /// Address to listen on.
    #[arg(long, env = "FLOTILLA_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// External base URL: the token issuer and the audience of cluster assertions.
    #[arg(long, env = "FLOTILLA_PUBLIC_URL", default_value = "http://localhost:8080", value_parser = parse_public_url)]
    pub public_url: Url,

    /// Directory for the embedded Postgres and local state.
    #[arg(long, env = "FLOTILLA_DATA_DIR", default_value = ".flotilla")]
    pub data_dir: PathBuf,

    /// Development mode: loopback only, developer sign-in, cookies without `Secure`.
    #[arg(long, env = "FLOTILLA_DEV", default_value_t = false, value_parser = BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true")]
    pub dev: bool,

    /// Log format: `human` or `json` (filters from `RUST_LOG`).
    #[arg(long, env = "FLOTILLA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Longest time a request may take, in seconds (1-3600).
    #[arg(long, env = "FLOTILLA_REQUEST_TIMEOUT", default_value = "30", value_parser = parse_timeout)]
    pub request_timeout: Seconds,

    /// Largest request body accepted, in bytes (1024-67108864).
    #[arg(long, env = "FLOTILLA_BODY_LIMIT", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub body_limit: u64,

    /// Longest wait for a request's headers, in seconds (1-3600): a client that sends them
    /// slowly, or keeps a connection open without sending any, is cut off after it.
    #[arg(long, env = "FLOTILLA_HEADER_READ_TIMEOUT", default_value = "15", value_parser = parse_timeout)]
    pub header_read_timeout: Seconds,

    /// Most client connections held at once (1-1000000); beyond it new ones wait to be
    /// accepted.
    #[arg(long, env = "FLOTILLA_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// The reverse proxies in front (comma-separated networks or addresses, e.g.
    /// `10.0.0.0/8,127.0.0.1`; none by default): only for a connection from one of them is the
    /// client's address read from the forwarding header (the right-most hop that is not one
    /// of them). It is what the rate limits, the audit log and the request logs use.
    #[arg(long, env = "FLOTILLA_TRUSTED_PROXIES", default_value = "", value_parser = parse_networks)]
    pub trusted_proxies: Networks,

    /// The header the trusted proxies write: `x-forwarded-for` or `forwarded` (RFC 7239).
    /// Only the one they write can be believed: a header they pass through untouched is the
    /// client's to forge.
    #[arg(long, env = "FLOTILLA_FORWARDED_HEADER", value_enum, default_value_t = ForwardedHeader::XForwardedFor)]
    pub forwarded_header: ForwardedHeader,

    /// How long shutdown waits for in-flight requests, in seconds (1-3600).
    #[arg(long, env = "FLOTILLA_SHUTDOWN_GRACE", default_value = "20", value_parser = parse_timeout)]
    pub shutdown_grace: Seconds,

    /// Postgres connections for requests and short work (1-1000); each process also holds up
    /// to 4 more of its own for change listeners and the DNS zone's lock.
    #[arg(long, env = "FLOTILLA_DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    // Here rather than in the DNS service's settings: it names every account's zone, which the
    // accounts service, the console, the name check and DNS all show.
    /// Parent domain of the account zones: `<account>.<base>`.
    #[arg(long, env = "FLOTILLA_DNS_BASE_DOMAIN", default_value = "flotilla.localhost", value_parser = parse_domain)]
    pub dns_base_domain: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per event.
    Json,
}

/// One of the services the server binary can run (`--services`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Service {
    /// Log-in, sign-up, accounts, members, API tokens, the token service and the console.
    Accounts,
    /// Registration tokens, cluster registration, heartbeats and cluster status.
    Clusters,
    /// The public-key directory: lookups, SPIFFE bundles, JWT authorities.
    Directory,
    /// Endpoint reports, record planning and the DNS reconciler.
    Dns,
}

impl Service {
    /// Every service: what one process runs by default.
    pub const ALL: [Service; 4] = [
        Service::Accounts,
        Service::Clusters,
        Service::Directory,
        Service::Dns,
    ];

    /// Its name in `--services`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Accounts => "accounts",
            Service::Clusters => "clusters",
            Service::Directory => "directory",
            Service::Dns => "dns",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A whole number of seconds, parsed from a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

/// Networks, from a comma-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Networks(pub Vec<IpNet>);

fn parse_networks(value: &str) -> Result<Networks, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither a network (10.0.0.0/8) nor an address"))
        })
        .collect::<Result<_, _>>()
        .map(Networks)
}

/// A combination of settings that cannot work together.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// The error saying `message`, which names the settings involved (flag and variable).
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl Config {
    /// Whether this process runs `service`.
    pub fn runs(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// Checks the rules that involve more than one setting. Run once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |message: String| Err(ConfigError(message));
        if self.dev && !self.listen.ip().is_loopback() {
            return fail(format!(
                "FLOTILLA_DEV (--dev): development mode only listens on a loopback address, \
                 but FLOTILLA_LISTEN (--listen) is {}; use 127.0.0.1:<port> or [::1]:<port>, \
                 or turn development mode off",
                self.listen
            ));
        }
        if self.public_url.scheme() == "http" && !self.dev && !is_loopback_host(&self.public_url) {
            return fail(format!(
                "FLOTILLA_PUBLIC_URL (--public-url): {} must use https unless its host is \
                 localhost or a loopback address, or development mode is on",
                self.public_url
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Flotilla's token issuer: the public URL without a trailing slash.
    pub fn issuer(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A secret: any text but the empty one.
pub fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        "FLOTILLA_LISTEN must be an IP address and port, such as 127.0.0.1:8080 or [::]:8080"
            .to_string()
    })
}

/// Whole seconds from 1 to an hour.
pub fn parse_timeout(value: &str) -> Result<Seconds, String> {
    parse_seconds(value, 1)
}

/// Whole seconds from 0 to an hour: a wait that may be none.
pub fn parse_recovery(value: &str) -> Result<Seconds, String> {
    parse_seconds(value, 0)
}

/// Whole seconds from `least` to an hour.
fn parse_seconds(value: &str, least: u64) -> Result<Seconds, String> {
    match value.parse::<u64>() {
        Ok(s) if (least..=3600).contains(&s) => Ok(Seconds(Duration::from_secs(s))),
        _ => Err(format!(
            "must be a whole number of seconds from {least} to 3600"
        )),
    }
}

/// An http:// or https:// URL with a host and no credentials.
pub fn parse_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    Ok(url)
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = parse_http_url(value)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(url)
}

/// An OpenID issuer: https://, or http:// for a loopback host; no query or fragment.
pub fn parse_issuer(value: &str) -> Result<Url, String> {
    let url = parse_public_url(value)?;
    if url.scheme() != "https" && !is_loopback_host(&url) {
        return Err("must be an https:// URL (http:// only for localhost)".into());
    }
    Ok(url)
}

fn parse_domain(value: &str) -> Result<String, String> {
    let domain = value.trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 200
        && domain.split('.').all(crate::names::is_dns_label);
    if valid {
        Ok(domain)
    } else {
        Err("must be a DNS name made of labels of a-z, 0-9 and inner '-' (at most 200 characters), such as example.com".into())
    }
}
