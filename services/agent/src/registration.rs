//! Making sure Flotilla knows the cluster under this identity CA. The agent asks with its own
//! assertion; only when Flotilla does not know the cluster (or knows it under another CA: a
//! rebuilt cluster) does the leading replica register it, with the registration token:
//! identity CA, API server and its CA, region and agent version. A restart, a second replica
//! or a re-run finds the cluster known and changes nothing. Without a token, or with one
//! Flotilla refuses (used up, expired, revoked), it says so and retries; it never exits.

use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_client::clusters::ClusterRegistration;
use secrecy::{ExposeSecret, SecretString};

use crate::backoff::{pause, Backoff};
use crate::endpoints::Note;
use crate::flotilla::{is_unknown_cluster, Flotilla};
use crate::observe::health::Condition;
use crate::run::Ctx;

/// The agent's version, as registered and in heartbeats.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Returns once Flotilla knows the cluster (true), or when the agent stops (false).
pub async fn ensure(ctx: &Ctx, flotilla: &Flotilla) -> bool {
    let mut stop = ctx.stop.clone();
    let mut leadership = ctx.leadership.clone();
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
    let fingerprint = flotilla.signer().ca().fingerprint().to_owned();
    loop {
        let problem = match flotilla.cluster().await {
            Ok(cluster) => {
                ctx.health.ok(Condition::Flotilla);
                ctx.health.ok(Condition::Registration);
                tracing::info!(cluster = %cluster.name, status = ?cluster.status, "Flotilla knows the cluster");
                return true;
            }
            Err(e) if is_unknown_cluster(&e) => {
                ctx.health.ok(Condition::Flotilla);
                let unknown = format!(
                    "Flotilla does not know cluster {} under this identity CA (SHA-256 {fingerprint})",
                    ctx.config.cluster
                );
                if ctx.leadership.is_leader() {
                    match register(ctx, flotilla).await {
                        Ok(Some(outcome)) => {
                            tracing::info!(outcome = %outcome, sha256 = %fingerprint, "registered the cluster");
                            ctx.events.agent(Note::normal(
                                "Registered",
                                format!(
                                    "registered cluster {} with Flotilla ({outcome})",
                                    ctx.config.cluster
                                ),
                            ));
                            continue;
                        }
                        Ok(None) => {
                            let message = format!(
                                "{unknown}, and the agent has no registration token: create one (`flotilla registration-tokens create`) and put it in the Secret flotilla-registration-token (key token) of namespace {}, or register the cluster with `flotilla register-cluster`",
                                ctx.config.namespace()
                            );
                            ctx.events
                                .agent(Note::warning("RegistrationNeeded", &message));
                            message
                        }
                        Err(why) => {
                            let message = format!("{unknown}, and registering it failed: {why}");
                            ctx.events
                                .agent(Note::warning("RegistrationFailed", &message));
                            message
                        }
                    }
                } else {
                    format!("{unknown}; the leading replica registers it")
                }
            }
            Err(e) if e.is_transient() => {
                let message = format!("cannot ask Flotilla whether it knows the cluster: {e}");
                ctx.health.problem(Condition::Flotilla, &message);
                message
            }
            Err(e) => {
                ctx.health.ok(Condition::Flotilla);
                let message = format!("Flotilla refuses the agent: {e}");
                ctx.events
                    .agent(Note::warning("AssertionRefused", &message));
                message
            }
        };
        tracing::warn!(problem = %problem, "the cluster is not registered; retrying");
        ctx.health.problem(Condition::Registration, problem);
        let delay = backoff.next_delay();
        tokio::select! {
            go_on = pause(delay, &mut stop) => if !go_on { return false; },
            () = leadership.changed() => {}
        }
    }
}

/// Registers the cluster with the registration token: what Flotilla did, `None` without a
/// token, or why it failed.
async fn register(ctx: &Ctx, flotilla: &Flotilla) -> Result<Option<String>, String> {
    let Some(token) = token(ctx)? else {
        return Ok(None);
    };
    let region = match &ctx.config.region {
        Some(region) => Some(region.clone()),
        None => {
            ctx.watches.nodes_ready().await;
            ctx.watches.region()
        }
    };
    let registration = ClusterRegistration {
        identity_ca: flotilla.signer().ca().certificate_pem().to_owned(),
        server: ctx.api_server.url.clone(),
        server_ca: ctx.api_server.ca_pem.clone(),
        labels: region.map(|r| BTreeMap::from([("region".to_owned(), r)])),
        agent_version: Some(AGENT_VERSION.to_owned()),
    };
    let result = flotilla
        .client()
        .register_cluster(
            token.expose_secret(),
            &ctx.config.account,
            &ctx.config.cluster,
            &registration,
        )
        .await;
    match result {
        Ok(registered) => {
            ctx.metrics.call("register");
            // The outcome as the API words it (`created`, `rotated`, ...).
            Ok(Some(
                serde_json::to_value(registered.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            ))
        }
        Err(e) => {
            ctx.metrics.failure("register", crate::flotilla::reason(&e));
            Err(e.to_string())
        }
    }
}

/// The registration token: the variable's, else the file's (read at every attempt, since the
/// Secret behind it may appear or change while the agent runs).
fn token(ctx: &Ctx) -> Result<Option<SecretString>, String> {
    if let Some(token) = &ctx.config.registration_token {
        if !token.expose_secret().trim().is_empty() {
            return Ok(Some(SecretString::from(token.expose_secret().trim())));
        }
    }
    let Some(path) = &ctx.config.registration_token_file else {
        return Ok(None);
    };
    let text = match read_bounded(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot read the registration token file {} ({e})",
                path.display()
            ))
        }
    };
    let token = text.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "the registration token file {} holds more than {MAX_TOKEN_BYTES} bytes: not a token",
            path.display()
        ));
    }
    Ok((!token.is_empty()).then(|| SecretString::from(token)))
}

/// Longest registration token read (Flotilla's are about 70 characters).
const MAX_TOKEN_BYTES: usize = 1024;

/// The file's text, reading at most one byte more than a token may hold.
fn read_bounded(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_TOKEN_BYTES as u64 + 1)
        .read_to_string(&mut text)?;
    Ok(text)
}
