//! The configuration contract of ARCHITECTURE.md: every setting is a flag and an environment
//! variable, parsed into typed values at start-up. A wrong value is refused with a message that
//! names the setting (flag and variable) and says what is allowed.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, ValueEnum};
use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

use crate::http::client_addr::ForwardedHeader;

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

    /// Upstream OpenID provider's issuer URL (used by the accounts service).
    #[arg(long, env = "FLOTILLA_OIDC_ISSUER", value_parser = parse_issuer)]
    pub oidc_issuer: Option<Url>,

    /// Client id registered for Flotilla at the upstream OpenID provider.
    #[arg(long, env = "FLOTILLA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// Client secret registered for Flotilla at the upstream OpenID provider.
    #[arg(long, env = "FLOTILLA_OIDC_CLIENT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub oidc_client_secret: Option<SecretString>,

    /// A TOML file listing several upstream OpenID providers, each shown as a button on the
    /// log-in page (see the README for its format).
    #[arg(long, env = "FLOTILLA_OIDC_PROVIDERS_FILE")]
    pub oidc_providers_file: Option<PathBuf>,

    /// Secret wrapping the token-signing keys kept in Postgres: 32 random bytes, base64
    /// (`openssl rand -base64 32`). Required outside development mode, which generates one in
    /// the data directory.
    #[arg(long, env = "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET", value_parser = parse_wrapping_secret, hide_env_values = true)]
    pub signing_key_wrapping_secret: Option<SecretString>,

    /// Days a token-signing key signs before a new one takes over (1-365).
    #[arg(long, env = "FLOTILLA_SIGNING_KEY_ROTATION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub signing_key_rotation_days: u32,

    /// Seconds without a heartbeat after which a cluster is `stale` and its endpoints leave DNS
    /// (1-3600). The default, 8, lets a heartbeat of the agent's default 5 s interval be almost
    /// 3 s late, and keeps a dead cluster's addresses out of DNS within 10 s.
    #[arg(long, env = "FLOTILLA_CLUSTER_STALE_AFTER", default_value = "8", value_parser = parse_timeout)]
    pub cluster_stale_after: Seconds,

    /// Seconds a stale cluster's heartbeats must keep arriving, without a gap of the stale
    /// threshold, before it is `ready` again and its endpoints return to DNS (0-3600; 0: at its
    /// first heartbeat). Damps a cluster whose heartbeats come and go: it leaves DNS once rather
    /// than at every late beat. A cluster back from `offline`, or new, is ready at its first.
    #[arg(long, env = "FLOTILLA_CLUSTER_RECOVER_AFTER", default_value = "4", value_parser = parse_recovery)]
    pub cluster_recover_after: Seconds,

    /// Seconds without a heartbeat after which a cluster is `offline` (1-3600; more than the
    /// stale threshold).
    #[arg(long, env = "FLOTILLA_CLUSTER_OFFLINE_AFTER", default_value = "300", value_parser = parse_timeout)]
    pub cluster_offline_after: Seconds,

    /// Seconds a SPIFFE bundle's consumers may wait before fetching it again: the bundles'
    /// `spiffe_refresh_hint`, and the public bundles' `Cache-Control` max-age (1-3600).
    #[arg(long, env = "FLOTILLA_SPIFFE_REFRESH_HINT", default_value = "300", value_parser = parse_timeout)]
    pub spiffe_refresh_hint: Seconds,

    /// Parent domain of the account zones: `<account>.<base>`.
    #[arg(long, env = "FLOTILLA_DNS_BASE_DOMAIN", default_value = "flotilla.localhost", value_parser = parse_domain)]
    pub dns_base_domain: String,

    /// DNS provider: `none` (plan only), `route53` or `pdns`.
    #[arg(long, env = "FLOTILLA_DNS_PROVIDER", value_enum, default_value_t = DnsProvider::None)]
    pub dns_provider: DnsProvider,

    /// Route53 hosted zone of the base domain (required with `--dns-provider route53`).
    #[arg(long, env = "FLOTILLA_ROUTE53_HOSTED_ZONE_ID")]
    pub route53_hosted_zone_id: Option<String>,

    /// Seconds one DNS provider request may take; after that its outcome counts as unknown
    /// and the zone is re-read to learn whether the change was applied (1-3600).
    #[arg(long, env = "FLOTILLA_DNS_PROVIDER_TIMEOUT", default_value = "10", value_parser = parse_timeout)]
    pub dns_provider_timeout: Seconds,

    /// PowerDNS HTTP API URL (required with `--dns-provider pdns`).
    #[arg(long, env = "FLOTILLA_PDNS_API_URL", value_parser = parse_http_url)]
    pub pdns_api_url: Option<Url>,

    /// PowerDNS API key (required with `--dns-provider pdns`).
    #[arg(long, env = "FLOTILLA_PDNS_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub pdns_api_key: Option<SecretString>,

    /// PowerDNS server id.
    #[arg(long, env = "FLOTILLA_PDNS_SERVER_ID", default_value = "localhost")]
    pub pdns_server_id: String,
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

/// Which DNS provider the reconciler drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DnsProvider {
    /// Plan only: records and changes are visible through the API but sent nowhere.
    None,
    /// Amazon Route53 (or a server speaking its API).
    Route53,
    /// The PowerDNS authoritative server's HTTP API.
    Pdns,
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
        if self.oidc_issuer.is_some() != self.oidc_client_id.is_some() {
            return fail(
                "FLOTILLA_OIDC_ISSUER (--oidc-issuer) and FLOTILLA_OIDC_CLIENT_ID \
                 (--oidc-client-id) must be set together"
                    .into(),
            );
        }
        if self.oidc_client_secret.is_some() && self.oidc_client_id.is_none() {
            return fail(
                "FLOTILLA_OIDC_CLIENT_SECRET (--oidc-client-secret) is set without \
                 FLOTILLA_OIDC_CLIENT_ID (--oidc-client-id) and FLOTILLA_OIDC_ISSUER"
                    .into(),
            );
        }
        match self.dns_provider {
            DnsProvider::Route53 if self.route53_hosted_zone_id.is_none() => {
                return fail(
                    "FLOTILLA_ROUTE53_HOSTED_ZONE_ID (--route53-hosted-zone-id) is required when \
                 FLOTILLA_DNS_PROVIDER is route53"
                        .into(),
                )
            }
            DnsProvider::Pdns if self.pdns_api_url.is_none() || self.pdns_api_key.is_none() => {
                return fail(
                    "FLOTILLA_PDNS_API_URL (--pdns-api-url) and FLOTILLA_PDNS_API_KEY \
                     (--pdns-api-key) are required when FLOTILLA_DNS_PROVIDER is pdns"
                        .into(),
                )
            }
            _ => {}
        }
        if self.cluster_offline_after.0 <= self.cluster_stale_after.0 {
            return fail(format!(
                "FLOTILLA_CLUSTER_OFFLINE_AFTER (--cluster-offline-after) must be more than \
                 FLOTILLA_CLUSTER_STALE_AFTER (--cluster-stale-after): {} s is not more than {} s",
                self.cluster_offline_after.0.as_secs(),
                self.cluster_stale_after.0.as_secs()
            ));
        }
        if !self.dev && self.signing_key_wrapping_secret.is_none() {
            return fail(
                "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET (--signing-key-wrapping-secret) is \
                 required outside development mode: 32 random bytes in base64, e.g. from \
                 `openssl rand -base64 32`. Keep it safe: without it the stored token-signing \
                 keys cannot be read."
                    .into(),
            );
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

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

fn parse_wrapping_secret(value: &str) -> Result<SecretString, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| "must be base64 (e.g. from `openssl rand -base64 32`)".to_string())?;
    if bytes.len() != 32 {
        return Err(format!(
            "must decode to exactly 32 bytes, not {} (e.g. from `openssl rand -base64 32`)",
            bytes.len()
        ));
    }
    Ok(SecretString::from(value.trim().to_owned()))
}

fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        "FLOTILLA_LISTEN must be an IP address and port, such as 127.0.0.1:8080 or [::]:8080"
            .to_string()
    })
}

fn parse_timeout(value: &str) -> Result<Seconds, String> {
    parse_seconds(value, 1)
}

fn parse_recovery(value: &str) -> Result<Seconds, String> {
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

fn parse_http_url(value: &str) -> Result<Url, String> {
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

fn parse_issuer(value: &str) -> Result<Url, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut argv = vec!["flotilla-server"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .map(|c| c.config)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = parse(&[]).expect("defaults parse");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url.as_str(), "http://localhost:8080/");
        assert_eq!(c.data_dir, PathBuf::from(".flotilla"));
        assert_eq!(c.body_limit, 1024 * 1024);
        assert_eq!(c.dns_base_domain, "flotilla.localhost");
        assert_eq!(c.dns_provider, DnsProvider::None);
        assert_eq!(c.dns_provider_timeout.0, Duration::from_secs(10));
        assert!(!c.dev);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("FLOTILLA_SIGNING_KEY_WRAPPING_SECRET"), "{e}");
        let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let c = parse(&["--signing-key-wrapping-secret", secret]).expect("parses");
        c.validate().expect("defaults and a secret are valid");
        parse(&["--dev"])
            .expect("parses")
            .validate()
            .expect("dev needs no secret");
    }

    #[test]
    fn services_are_a_comma_separated_subset() {
        assert_eq!(parse(&[]).expect("defaults").services, Service::ALL);
        let c = parse(&["--services", "directory,dns"]).expect("parses");
        assert!(c.runs(Service::Dns) && c.runs(Service::Directory));
        assert!(!c.runs(Service::Accounts) && !c.runs(Service::Clusters));
        let e = parse(&["--services", "accounts,dsn"]).unwrap_err();
        assert!(e.contains("--services") && e.contains("dsn"), "{e}");
        assert!(e.contains("accounts, clusters, directory, dns"), "{e}");
        let e = parse(&["--services", ""]).unwrap_err();
        assert!(e.contains("--services"), "{e}");
    }

    #[test]
    fn wrong_values_name_the_setting_and_what_is_allowed() {
        let e = parse(&["--listen", "nope"]).unwrap_err();
        assert!(
            e.contains("--listen") && e.contains("127.0.0.1:8080"),
            "{e}"
        );
        let e = parse(&["--dns-provider", "bind"]).unwrap_err();
        assert!(e.contains("--dns-provider") && e.contains("route53"), "{e}");
        let e = parse(&["--request-timeout", "0"]).unwrap_err();
        assert!(e.contains("1 to 3600"), "{e}");
        let e = parse(&["--dns-base-domain", "bad_domain!"]).unwrap_err();
        assert!(e.contains("DNS name"), "{e}");
        let e = parse(&["--dev", "--listen", "0.0.0.0:8080"])
            .expect("parses")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("FLOTILLA_DEV") && e.contains("loopback"), "{e}");
        let e = parse(&["--dns-provider", "pdns"])
            .expect("parses")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("FLOTILLA_PDNS_API_URL"), "{e}");
        let e = parse(&["--signing-key-wrapping-secret", "c2hvcnQ="]).unwrap_err();
        assert!(e.contains("32 bytes"), "{e}");
        let e = parse(&["--public-url", "http://flotilla.example.com"])
            .expect("parses")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("https"), "{e}");
    }
}
