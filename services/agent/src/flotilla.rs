//! Flotilla as the agent calls it: the shared typed client, with a fresh (or reused) cluster
//! assertion as the bearer of every call, and every outcome counted in the metrics.

use std::sync::Arc;
use std::time::Duration;

use flotilla_client::clusters::{Cluster, Heartbeat, HeartbeatAck, Kubeconfig};
use flotilla_client::directory::BundleMapAnswer;
use flotilla_client::endpoints::{
    ClusterEndpoints, EndpointReport, EndpointSetReport, EndpointView,
};
use flotilla_client::{Client, Error};

use crate::identity::assertion::bearer;
use crate::identity::Signer;
use crate::observe::metrics::Metrics;

/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The agent's agent-authenticated calls to Flotilla.
#[derive(Clone)]
pub struct Flotilla {
    client: Client,
    signer: Signer,
    account: String,
    cluster: String,
    metrics: Arc<Metrics>,
}

/// The user agent of the agent's calls.
fn user_agent() -> String {
    format!("flotilla-agent/{}", env!("CARGO_PKG_VERSION"))
}

/// A client of Flotilla at `url`.
pub fn client(url: &str) -> Result<Client, Error> {
    Client::new(url, &user_agent(), CALL_TIMEOUT)
}

impl Flotilla {
    /// Calls for `cluster` of `account`, signed by `signer`.
    pub fn new(
        client: Client,
        signer: Signer,
        account: &str,
        cluster: &str,
        metrics: Arc<Metrics>,
    ) -> Self {
        Flotilla {
            client,
            signer,
            account: account.to_owned(),
            cluster: cluster.to_owned(),
            metrics,
        }
    }

    /// The shared client, for calls with another bearer (a registration token).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The signer of the assertions.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    fn assertion(&self) -> Result<secrecy::SecretString, Error> {
        self.signer.assertion().map_err(Error::Setup)
    }

    fn count<T>(&self, call: &'static str, result: Result<T, Error>) -> Result<T, Error> {
        match &result {
            Ok(_) => self.metrics.call(call),
            Err(e) => self.metrics.failure(call, reason(e)),
        }
        result
    }

    /// The cluster as Flotilla knows it (a 401 `(chain)` means it does not, under this CA).
    pub async fn cluster(&self) -> Result<Cluster, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .get_cluster(bearer(&token), &self.account, &self.cluster)
            .await;
        self.count("cluster", result)
    }

    /// A heartbeat.
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<HeartbeatAck, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .heartbeat(bearer(&token), &self.account, &self.cluster, beat)
            .await;
        self.count("heartbeat", result)
    }

    /// The endpoints Flotilla holds for the cluster, and the account's zone.
    pub async fn endpoints(&self) -> Result<ClusterEndpoints, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .cluster_endpoints(bearer(&token), &self.account, &self.cluster)
            .await;
        self.count("endpoints", result)
    }

    /// Replaces the whole set.
    pub async fn replace(&self, set: &EndpointSetReport) -> Result<ClusterEndpoints, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .replace_endpoints(bearer(&token), &self.account, &self.cluster, set)
            .await;
        self.count("replace", result)
    }

    /// Reports one host's endpoint.
    pub async fn report(&self, host: &str, report: &EndpointReport) -> Result<EndpointView, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .report_endpoint(bearer(&token), &self.account, &self.cluster, host, report)
            .await;
        self.count("report", result)
    }

    /// Withdraws one host's endpoint (already gone counts as done).
    pub async fn withdraw(&self, host: &str) -> Result<(), Error> {
        let token = self.assertion()?;
        let result = match self
            .client
            .withdraw_endpoint(bearer(&token), &self.account, &self.cluster, host)
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other,
        };
        self.count("withdraw", result)
    }

    /// The account's bundle map; with `etag` and `wait`, held until it changes.
    pub async fn bundle_map(
        &self,
        etag: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<BundleMapAnswer, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .bundle_map(bearer(&token), &self.account, etag, wait)
            .await;
        self.count("bundles", result)
    }

    /// Where `cluster`'s API server is, and its CA.
    pub async fn kubeconfig(&self, cluster: &str) -> Result<Kubeconfig, Error> {
        let token = self.assertion()?;
        let result = self
            .client
            .kubeconfig(bearer(&token), &self.account, cluster)
            .await;
        self.count("kubeconfig", result)
    }
}

/// A failure's reason, as the metrics count it.
pub fn reason(e: &Error) -> &'static str {
    match e.status() {
        None if matches!(e, Error::Unreachable { .. }) => "unreachable",
        None => "local",
        Some(401 | 403) => "unauthorized",
        Some(422 | 413 | 400) => "invalid",
        Some(s) if s >= 500 || s == 429 => "server",
        Some(_) => "refused",
    }
}

/// Whether a refusal says Flotilla does not know the cluster under this identity CA.
pub fn is_unknown_cluster(e: &Error) -> bool {
    e.status() == Some(401)
        && e.problem()
            .and_then(|p| p.detail.as_deref())
            .is_some_and(|d| d.contains("(chain)") || d.contains("no longer registered"))
}
