//! The identity CA's Secret (`kubernetes.io/tls`, `tls.crt` and `tls.key`, in the agent's
//! namespace): read, or, when there is none, made by the leading replica (the key is
//! generated here and goes nowhere but into the Secret). A Secret that does not hold a usable
//! CA is reported (log, `/readyz`, an Event on the agent's Pod) and read again until fixed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::PostParams;
use kube::Api;

use super::ca::IdentityCa;
use crate::backoff::{pause, Backoff};
use crate::endpoints::Note;
use crate::k8s::{describe, is_conflict, is_not_found};
use crate::observe::health::Condition;
use crate::run::Ctx;

/// What the Secret holds.
enum Found {
    /// A usable CA.
    Ca(Box<IdentityCa>),
    /// No such Secret.
    Missing,
    /// A Secret that is not a usable CA, and why.
    Unusable(String),
}

/// The identity CA, once there is a usable one; `None` if the agent stops first.
pub async fn obtain(ctx: &Ctx) -> Option<Arc<IdentityCa>> {
    let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), ctx.config.namespace());
    let name = &ctx.config.identity_ca_secret;
    let shown = format!("{}/{name}", ctx.config.namespace());
    let mut stop = ctx.stop.clone();
    let mut leadership = ctx.leadership.clone();
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    // Whether this replica may make a missing CA depends on the Lease's first answer.
    tokio::select! {
        () = ctx.leadership.decided() => {}
        _ = stop.wait_for(|s| *s) => return None,
    }
    loop {
        let problem = match read(&api, name).await {
            Ok(Found::Ca(ca)) => {
                tracing::info!(secret = %shown, sha256 = ca.fingerprint(), "identity CA loaded");
                ctx.health.ok(Condition::Identity);
                return Some(Arc::new(*ca));
            }
            Ok(Found::Unusable(why)) => {
                let message =
                    format!("the Secret {shown} does not hold a usable identity CA: {why}");
                ctx.events
                    .agent(Note::warning("InvalidIdentityCa", &message));
                message
            }
            Ok(Found::Missing) if ctx.leadership.is_leader() => {
                match create(&api, ctx, name).await {
                    Ok(ca) => {
                        let message = format!(
                            "made the cluster's identity CA (SHA-256 {}); its key is only in the Secret {shown}",
                            ca.fingerprint()
                        );
                        tracing::info!(secret = %shown, sha256 = ca.fingerprint(), "identity CA made");
                        ctx.events.agent(Note::normal("IdentityCaCreated", message));
                        ctx.health.ok(Condition::Identity);
                        return Some(Arc::new(ca));
                    }
                    // Made meanwhile by another replica: read it.
                    Err(e) if is_conflict(&e) => continue,
                    Err(e) => format!(
                        "cannot create the identity CA Secret {shown}: {}",
                        describe(&e)
                    ),
                }
            }
            Ok(Found::Missing) => {
                format!("no identity CA Secret {shown} yet; the leading replica makes it")
            }
            Err(e) => format!(
                "cannot read the identity CA Secret {shown}: {}",
                describe(&e)
            ),
        };
        tracing::warn!(secret = %shown, problem = %problem, "identity CA not loaded; retrying");
        ctx.health.problem(Condition::Identity, problem);
        let delay = backoff.next_delay();
        tokio::select! {
            go_on = pause(delay, &mut stop) => if !go_on { return None; },
            () = leadership.changed() => {}
        }
    }
}

async fn read(api: &Api<Secret>, name: &str) -> Result<Found, kube::Error> {
    let secret = match api.get(name).await {
        Ok(secret) => secret,
        Err(e) if is_not_found(&e) => return Ok(Found::Missing),
        Err(e) => return Err(e),
    };
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| {
        data.get(key)
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .ok_or_else(|| format!("it has no {key}"))
    };
    let (certificate, key) = match (text("tls.crt"), text("tls.key")) {
        (Ok(c), Ok(k)) => (c, k),
        (Err(why), _) | (_, Err(why)) => return Ok(Found::Unusable(why)),
    };
    Ok(match IdentityCa::from_pem(&certificate, &key) {
        Ok(ca) => Found::Ca(Box::new(ca)),
        Err(why) => Found::Unusable(why),
    })
}

async fn create(api: &Api<Secret>, ctx: &Ctx, name: &str) -> Result<IdentityCa, kube::Error> {
    let generated =
        IdentityCa::generate(&ctx.config.cluster).map_err(|e| kube::Error::Service(e.into()))?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ctx.config.namespace().to_owned()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "flotilla-agent".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            (
                "tls.crt".to_owned(),
                ByteString(generated.ca.certificate_pem().as_bytes().to_vec()),
            ),
            (
                "tls.key".to_owned(),
                ByteString(generated.key_pem.as_bytes().to_vec()),
            ),
        ])),
        ..Secret::default()
    };
    api.create(&PostParams::default(), &secret).await?;
    Ok(generated.ca)
}
