//! The agent's life: start the health server and the watches, join the leader election,
//! obtain the identity CA, make sure Flotilla knows the cluster, then heartbeat and report
//! endpoints until told to stop. Nothing Kubernetes or Flotilla does makes it exit: it says
//! what is wrong (log, `/readyz`, an Event) and retries.

use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use tokio::sync::watch;

use crate::config::Config;
use crate::endpoints::reporter::{self, Shared};
use crate::flotilla::{self, Flotilla};
use crate::identity::ca::pem_of;
use crate::identity::Signer;
use crate::k8s::events::Events;
use crate::k8s::lease::{self, Election, Leadership};
use crate::k8s::watches::Watches;
use crate::observe::health::{Condition, Health};
use crate::observe::metrics::Metrics;
use crate::observe::serve::{self, Shown};
use crate::{directory, heartbeat, identity, registration};

/// What every part of the agent shares.
pub struct Ctx {
    /// The settings.
    pub config: Config,
    /// The API server other clusters reach this one at, as registered.
    pub api_server: ApiServer,
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// The watched objects.
    pub watches: Watches,
    /// Whether this replica leads.
    pub leadership: Leadership,
    /// Readiness.
    pub health: Arc<Health>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events.
    pub events: Events,
    /// Turns true when the agent is to stop.
    pub stop: watch::Receiver<bool>,
}

/// The API server other clusters reach this one at: `FLOTILLA_CLUSTER_SERVER`, else the
/// Kubernetes configuration's; and the CA that verifies it (PEM), when the configuration has one.
pub struct ApiServer {
    /// Its URL.
    pub url: String,
    /// Its CA.
    pub ca_pem: Option<String>,
}

/// Runs the agent until `stop` turns true. Fails only on what retrying cannot fix: no
/// Kubernetes configuration, or a listen address that cannot be bound.
pub async fn run(config: Config, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let kube_config = kube::Config::infer().await.map_err(|e| {
        anyhow::anyhow!("no Kubernetes configuration: {e} (run in a pod, or set KUBECONFIG)")
    })?;
    let kube_url = kube_config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let api_server = ApiServer {
        url: match &config.cluster_server {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => kube_url.clone(),
        },
        ca_pem: kube_config
            .root_cert
            .as_ref()
            .and_then(|certs| certs.first())
            .map(|der| pem_of(der)),
    };
    let kube = kube::Client::try_from(kube_config)
        .map_err(|e| anyhow::anyhow!("cannot make a Kubernetes client: {e}"))?;
    let client =
        flotilla::client(config.url.as_str()).map_err(|e| anyhow::anyhow!("FLOTILLA_URL: {e}"))?;
    let health = Arc::new(Health::default());
    let metrics = Arc::new(Metrics::default());
    let leadership = lease::spawn(
        kube.clone(),
        Election {
            namespace: config.namespace().to_owned(),
            identity: config.holder_identity(),
            duration: std::time::Duration::from_secs(config.lease_duration),
        },
        stop.clone(),
    );
    let bound = serve::start(
        config.listen,
        Shown {
            health: Arc::clone(&health),
            metrics: Arc::clone(&metrics),
            leadership: leadership.clone(),
        },
        stop.clone(),
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {} (FLOTILLA_AGENT_LISTEN): {e}",
            config.listen
        )
    })?;
    tracing::info!(
        listen = %bound,
        flotilla = %config.url,
        account = %config.account,
        cluster = %config.cluster,
        namespace = config.namespace(),
        kubernetes = %kube_url,
        "flotilla-agent started"
    );
    let events = Events::new(kube.clone(), config.holder_identity(), own_pod(&config));
    let watches = Watches::start(&kube);
    let ctx = Arc::new(Ctx {
        config,
        api_server,
        kube,
        watches,
        leadership,
        health,
        metrics,
        events,
        stop,
    });
    tokio::spawn(watch_health(Arc::clone(&ctx)));

    let Some(ca) = identity::secret::obtain(&ctx).await else {
        return Ok(());
    };
    let signer = Signer::new(
        Arc::clone(&ca),
        ctx.config.audience(),
        &ctx.config.cluster,
        ctx.config.namespace(),
    );
    let flotilla = Flotilla::new(
        client,
        signer,
        &ctx.config.account,
        &ctx.config.cluster,
        Arc::clone(&ctx.metrics),
    );
    if !registration::ensure(&ctx, &flotilla).await {
        return Ok(());
    }
    tokio::spawn(directory::run(Arc::clone(&ctx), flotilla.clone(), ca));
    let shared = Arc::new(Shared::default());
    tokio::spawn(heartbeat::run(
        Arc::clone(&ctx),
        flotilla.clone(),
        Arc::clone(&shared),
    ));
    reporter::run(&ctx, &flotilla, &shared).await;
    Ok(())
}

/// Keeps the Kubernetes condition of readiness current: which watches fail, and which have
/// not had their first complete list yet.
async fn watch_health(ctx: Arc<Ctx>) {
    let mut stop = ctx.stop.clone();
    loop {
        match ctx.watches.problem() {
            None => ctx.health.ok(Condition::Kubernetes),
            Some(why) => ctx.health.problem(Condition::Kubernetes, why),
        }
        let pause = crate::backoff::pause(std::time::Duration::from_secs(1), &mut stop);
        tokio::select! {
            // The last list makes the agent ready at once, not at the next look.
            _ = ctx.watches.ready(), if !ctx.watches.synced() => {}
            go_on = pause => if !go_on { return; },
        }
    }
}

/// The agent's own Pod, from the downward API, where its Events go.
fn own_pod(config: &Config) -> Option<ObjectReference> {
    Some(ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some(config.pod_name.clone()?),
        namespace: Some(config.pod_namespace.clone()?),
        uid: config.pod_uid.clone(),
        ..ObjectReference::default()
    })
}
