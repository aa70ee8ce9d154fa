//! DNS providers: where the planned record sets end up. Each lists what its zone holds and
//! applies one batch of changes atomically, and says how a failure should be handled:
//! a refusal is isolated and quarantined, throttling and outages are retried with backoff, and
//! a request whose outcome is unknown makes the reconciler re-read the zone.

pub mod pdns;
pub mod route53;

use std::time::Duration;

use crate::plan::Flavour;
use crate::records::{Change, RecordSet};
use crate::settings::{DnsProvider, DnsSettings};

/// The zone the provider of `settings` works on for `base_domain`, as recorded with
/// Flotilla's record sets: the provider and its zone, so that switching providers starts from
/// a clean slate.
pub fn zone_of(settings: &DnsSettings, base_domain: &str) -> String {
    match settings.dns_provider {
        DnsProvider::None => format!("none:{base_domain}."),
        DnsProvider::Pdns => format!("pdns:{base_domain}."),
        DnsProvider::Route53 => {
            format!(
                "route53:{}",
                settings
                    .route53_hosted_zone_id
                    .as_deref()
                    .unwrap_or_default()
            )
        }
    }
}

/// Why a provider request failed, sorted by what the reconciler does about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The provider refused the batch and would refuse it again: bisect and quarantine.
    #[error("refused: {0}")]
    Rejected(String),
    /// Too many requests: retry after a backoff.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The provider cannot be reached or failed; nothing was applied: retry after a backoff.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// No answer in time, or one that cannot be read: the batch may or may not be applied.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

impl Failure {
    /// The failure's kind, as the metrics label it.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Rejected(_) => "refused",
            Failure::Throttled(_) => "throttled",
            Failure::Unavailable(_) => "unavailable",
            Failure::Unknown(_) => "unknown",
        }
    }
}

/// The provider's acknowledgement of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ack {
    /// The provider's id of the change, where it has one (Route53's `/change/...`).
    pub change_id: Option<String>,
}

/// What a listing of the zone found, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every record set in the zone.
    pub sets: Vec<RecordSet>,
    /// Requests made to list it (pages).
    pub requests: u32,
}

/// The configured provider.
pub enum Provider {
    /// Plan only: nothing is sent anywhere.
    None,
    /// A PowerDNS authoritative server's HTTP API.
    Pdns(pdns::Pdns),
    /// Amazon Route53 (or anything speaking its API).
    Route53(route53::Route53),
}

impl Provider {
    /// The provider `settings` name, for the zones under `base_domain`.
    pub async fn from_settings(
        settings: &DnsSettings,
        base_domain: &str,
    ) -> anyhow::Result<Provider> {
        Ok(match settings.dns_provider {
            DnsProvider::None => Provider::None,
            DnsProvider::Pdns => Provider::Pdns(pdns::Pdns::from_settings(settings, base_domain)?),
            DnsProvider::Route53 => {
                Provider::Route53(route53::Route53::from_settings(settings).await?)
            }
        })
    }

    /// How the provider can route.
    pub fn flavour(&self) -> Flavour {
        match self {
            Provider::Pdns(_) => Flavour::Plain,
            Provider::None | Provider::Route53(_) => Flavour::Routed,
        }
    }

    /// The least time between two requests (Route53 allows five a second per AWS account).
    pub fn min_interval(&self) -> Option<Duration> {
        match self {
            Provider::Route53(_) => Some(Duration::from_millis(200)),
            Provider::None | Provider::Pdns(_) => None,
        }
    }

    /// Lists the zone, reporting each request to `before_request` first (for pacing).
    pub async fn list(
        &self,
        pace: &mut crate::reconciler::pacing::Pacer,
    ) -> Result<Listing, Failure> {
        match self {
            Provider::None => Ok(Listing::default()),
            Provider::Pdns(p) => {
                pace.ready().await;
                p.list().await
            }
            Provider::Route53(r) => r.list(pace).await,
        }
    }

    /// Applies `changes` as one atomic batch.
    pub async fn apply(&self, changes: &[Change]) -> Result<Ack, Failure> {
        match self {
            Provider::None => Err(Failure::Unavailable(
                "the `none` provider applies nothing".into(),
            )),
            Provider::Pdns(p) => p.apply(changes).await,
            Provider::Route53(r) => r.apply(changes).await,
        }
    }
}

/// A request not answered within `timeout` (`--dns-provider-timeout`): it may have been applied.
pub fn no_answer(timeout: Duration) -> Failure {
    Failure::Unknown(format!("no answer within {} s", timeout.as_secs()))
}

/// The failure a transport error stands for: nothing sent (unavailable), or no answer in time
/// (unknown).
pub fn transport_failure(e: &reqwest::Error, timeout: Duration) -> Failure {
    if e.is_connect() {
        Failure::Unavailable(format!("cannot connect: {e}"))
    } else if e.is_timeout() {
        no_answer(timeout)
    } else {
        Failure::Unknown(e.to_string())
    }
}
