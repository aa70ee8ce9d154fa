//! The server's command line: the settings every service needs (core's [`Config`]) and each
//! service's own, flattened into one, and the start-up check of all of them.

use clap::{Args, Parser};
use flotilla_accounts::settings::AccountsSettings;
use flotilla_clusters::settings::ClusterSettings;
use flotilla_core::config::{Config, ConfigError};
use flotilla_directory::settings::DirectorySettings;
use flotilla_dns::settings::DnsSettings;

/// Every setting of the server, each a flag and an environment variable.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// What every service needs: the database, the listener, the public URL, HTTP limits.
    #[command(flatten)]
    pub config: Config,
    /// The accounts service's: the upstream OpenID providers, the token-signing keys.
    #[command(flatten)]
    pub accounts: AccountsSettings,
    /// The clusters service's: the heartbeat thresholds.
    #[command(flatten)]
    pub clusters: ClusterSettings,
    /// The directory service's: the SPIFFE refresh hint.
    #[command(flatten)]
    pub directory: DirectorySettings,
    /// The DNS service's: the provider.
    #[command(flatten)]
    pub dns: DnsSettings,
}

/// A command line of settings alone, for [`Settings::from_args`].
#[derive(Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// The settings of `args` (a command line without the program's name), parsed as the
    /// server parses its own, variables of the environment included: for tests and benchmarks
    /// that build the application in process.
    pub fn from_args(args: &[&str]) -> Result<Self, clap::Error> {
        let argv = std::iter::once("flotilla-server").chain(args.iter().copied());
        SettingsOnly::try_parse_from(argv).map(|only| only.settings)
    }

    /// Checks the rules that involve more than one setting; the first broken one is the
    /// error. Run once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()?;
        self.accounts.validate()?;
        self.dns.validate()?;
        self.clusters.validate()?;
        // The order is the one from before the settings were split: it decides which message
        // a start-up with several mistakes shows.
        self.accounts.validate_wrapping_secret(self.config.dev)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use flotilla_core::config::Service;
    use flotilla_dns::settings::DnsProvider;

    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        Settings::from_args(args).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = parse(&[]).expect("defaults parse");
        assert_eq!(c.config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.config.public_url.as_str(), "http://localhost:8080/");
        assert_eq!(c.config.data_dir, PathBuf::from(".flotilla"));
        assert_eq!(c.config.body_limit, 1024 * 1024);
        assert_eq!(c.config.dns_base_domain, "flotilla.localhost");
        assert_eq!(c.dns.dns_provider, DnsProvider::None);
        assert_eq!(c.dns.dns_provider_timeout.0, Duration::from_secs(10));
        assert!(!c.config.dev);
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
        assert_eq!(parse(&[]).expect("defaults").config.services, Service::ALL);
        let c = parse(&["--services", "directory,dns"])
            .expect("parses")
            .config;
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
