//! The DNS service's settings: which provider the reconciler drives, and how to reach it. A
//! part of the server's command line, validated at start-up with the rest. (The base domain
//! of the account zones is a shared setting: every service shows it.)

use flotilla_core::config::{
    clap, parse_http_url, parse_secret, parse_timeout, ConfigError, Seconds,
};
use secrecy::SecretString;
use url::Url;

/// The DNS service's settings, flattened into the server's command line.
#[derive(Debug, Clone, clap::Args)]
pub struct DnsSettings {
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

/// Which DNS provider the reconciler drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DnsProvider {
    /// Plan only: records and changes are visible through the API but sent nowhere.
    None,
    /// Amazon Route53 (or a server speaking its API).
    Route53,
    /// The PowerDNS authoritative server's HTTP API.
    Pdns,
}

impl DnsSettings {
    /// Checks that the chosen provider has what it needs. Run once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.dns_provider {
            DnsProvider::Route53 if self.route53_hosted_zone_id.is_none() => Err(ConfigError::new(
                "FLOTILLA_ROUTE53_HOSTED_ZONE_ID (--route53-hosted-zone-id) is required when \
                     FLOTILLA_DNS_PROVIDER is route53",
            )),
            DnsProvider::Pdns if self.pdns_api_url.is_none() || self.pdns_api_key.is_none() => {
                Err(ConfigError::new(
                    "FLOTILLA_PDNS_API_URL (--pdns-api-url) and FLOTILLA_PDNS_API_KEY \
                     (--pdns-api-key) are required when FLOTILLA_DNS_PROVIDER is pdns",
                ))
            }
            _ => Ok(()),
        }
    }
}
