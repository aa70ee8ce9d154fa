//! The agent's settings: each a flag and an environment variable, with the names
//! ARCHITECTURE.md fixes so that manifests, docs and tests agree. Checked once at start-up; a
//! wrong value stops the agent with a message naming the setting (exit 2), before it touches
//! Kubernetes or Flotilla.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use url::Url;

/// Where logs go and how they look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// `flotilla-agent`: Flotilla's agent in one Kubernetes cluster.
#[derive(Debug, Parser)]
#[command(name = "flotilla-agent", version, about, long_about = None)]
pub struct Config {
    /// Flotilla's public URL (the cluster assertions' audience), e.g. https://flotilla.example.com.
    #[arg(long, env = "FLOTILLA_URL", value_parser = parse_flotilla_url)]
    pub url: Url,

    /// The account the cluster belongs to.
    #[arg(long, env = "FLOTILLA_ACCOUNT", value_parser = parse_name)]
    pub account: String,

    /// The cluster's name in Flotilla (its SPIFFE trust domain).
    #[arg(long, env = "FLOTILLA_CLUSTER", value_parser = parse_name)]
    pub cluster: String,

    /// Namespace of the agent's Secrets and Lease: the pod's namespace, else `admiralty`.
    #[arg(long, env = "FLOTILLA_AGENT_NAMESPACE", value_parser = parse_name)]
    pub namespace: Option<String>,

    /// `kubernetes.io/tls` Secret holding the identity CA; made here on first start if absent.
    #[arg(long, env = "FLOTILLA_IDENTITY_CA_SECRET", default_value = "flotilla-identity-ca", value_parser = parse_name)]
    pub identity_ca_secret: String,

    /// Registration token, used once when Flotilla does not know the cluster yet.
    #[arg(long, env = "FLOTILLA_REGISTRATION_TOKEN", hide_env_values = true)]
    pub registration_token: Option<SecretString>,

    /// File holding the registration token (a mounted Secret), read again at every attempt.
    #[arg(long, env = "FLOTILLA_REGISTRATION_TOKEN_FILE")]
    pub registration_token_file: Option<PathBuf>,

    /// The API server URL other clusters use, registered with the cluster: the Kubernetes
    /// configuration's server when unset.
    #[arg(long, env = "FLOTILLA_CLUSTER_SERVER", value_parser = parse_https_url)]
    pub cluster_server: Option<Url>,

    /// The cluster's `region` label: the nodes' `topology.kubernetes.io/region` when unset.
    #[arg(long, env = "FLOTILLA_REGION", value_parser = parse_label_value)]
    pub region: Option<String>,

    /// Seconds between heartbeats (1-300).
    #[arg(long, env = "FLOTILLA_HEARTBEAT_INTERVAL", default_value = "5", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub heartbeat_interval: u64,

    /// Seconds between full resynchronisations of the endpoint set (10-86400).
    #[arg(long, env = "FLOTILLA_RESYNC_INTERVAL", default_value = "300", value_parser = clap::value_parser!(u64).range(10..=86400))]
    pub resync_interval: u64,

    /// Seconds a leader's Lease lasts without renewal before another replica takes over (2-300).
    #[arg(long, env = "FLOTILLA_LEASE_DURATION", default_value = "15", value_parser = clap::value_parser!(u64).range(2..=300))]
    pub lease_duration: u64,

    /// A ConfigMap of the agent's namespace to keep the account's SPIFFE bundles in (the bundle
    /// map, and each trust domain's bundle), for meshes and SPIRE federation; off when unset.
    #[arg(long, env = "FLOTILLA_SPIFFE_BUNDLES_CONFIGMAP", value_parser = parse_name)]
    pub spiffe_bundles_configmap: Option<String>,

    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    #[arg(long, env = "FLOTILLA_AGENT_LISTEN", default_value = "0.0.0.0:9090")]
    pub listen: SocketAddr,

    /// `human` or `json`; filter with `RUST_LOG`.
    #[arg(long, env = "FLOTILLA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// This pod's name (downward API): the Lease holder's identity and where the agent's own
    /// Events go.
    #[arg(long, env = "POD_NAME", hide = true)]
    pub pod_name: Option<String>,

    /// This pod's namespace (downward API).
    #[arg(long, env = "POD_NAMESPACE", hide = true)]
    pub pod_namespace: Option<String>,

    /// This pod's uid (downward API), so that `kubectl describe pod` shows the agent's Events.
    #[arg(long, env = "POD_UID", hide = true)]
    pub pod_uid: Option<String>,
}

impl Config {
    /// Namespace of the agent's Secrets and Lease.
    pub fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .or(self.pod_namespace.as_deref())
            .unwrap_or("admiralty")
    }

    /// Flotilla's URL as the audience of assertions: without a trailing slash.
    pub fn audience(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_owned()
    }

    /// The heartbeat interval.
    pub fn heartbeat_every(&self) -> Duration {
        Duration::from_secs(self.heartbeat_interval)
    }

    /// This replica's identity in the Lease: the pod's name, or the host's.
    pub fn holder_identity(&self) -> String {
        self.pod_name
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("flotilla-agent-{}", std::process::id()))
    }
}

/// A DNS label: `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$` (account, cluster and Kubernetes
/// object names alike).
pub fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

/// A Kubernetes object name (DNS-1123 subdomain): 1-253 of a-z, 0-9, '-' and '.', starting and
/// ending with a letter or digit.
pub fn is_object_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=253).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(b))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn parse_name(value: &str) -> Result<String, String> {
    if is_dns_label(value) {
        Ok(value.to_owned())
    } else {
        Err("must be a DNS label: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'".into())
    }
}

fn parse_flotilla_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("must be a plain URL: no credentials, query or fragment".into());
    }
    Ok(url)
}

fn parse_https_url(value: &str) -> Result<Url, String> {
    let url = parse_flotilla_url(value)?;
    if url.scheme() != "https" {
        return Err(
            "must be an https:// URL: other clusters verify the API server with its CA".into(),
        );
    }
    Ok(url)
}

/// A Kubernetes label value (the server checks it again).
fn parse_label_value(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(value.to_owned())
    } else {
        Err("must be a label value: 1-63 of letters, digits, '-', '_', '.', starting and ending alphanumeric".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        parse_with_url("https://flotilla.example.com/", args)
    }

    fn parse_with_url(url: &str, args: &[&str]) -> Result<Config, clap::Error> {
        let base = [
            "flotilla-agent",
            "--url",
            url,
            "--account",
            "acme",
            "--cluster",
            "eu-1",
        ];
        Config::try_parse_from(base.iter().chain(args))
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = parse(&[]).expect("valid");
        assert_eq!(c.audience(), "https://flotilla.example.com");
        assert_eq!(c.identity_ca_secret, "flotilla-identity-ca");
        assert_eq!(c.heartbeat_interval, 5);
        assert_eq!(c.listen.to_string(), "0.0.0.0:9090");
        assert_eq!(c.namespace(), "admiralty");
        let c = parse(&["--pod-namespace", "agents"]).expect("valid");
        assert_eq!(c.namespace(), "agents");
        let c = parse(&["--pod-namespace", "agents", "--namespace", "other"]).expect("valid");
        assert_eq!(c.namespace(), "other");
    }

    #[test]
    fn wrong_values_are_refused_naming_the_setting() {
        for args in [
            &["--cluster-server", "http://10.0.0.1:6443"][..],
            &["--heartbeat-interval", "0"],
            &["--region=-eu"],
            &["--namespace", "Admiralty"],
        ] {
            let e = parse(args).expect_err("refused").to_string();
            let flag = args[0].split('=').next().unwrap_or_default();
            assert!(e.contains(flag), "{args:?}: {e}");
        }
        for url in ["ftp://x", "https://u:p@flotilla.example.com", "not a url"] {
            let e = parse_with_url(url, &[]).expect_err("refused").to_string();
            assert!(e.contains("--url"), "{url}: {e}");
        }
    }
}
