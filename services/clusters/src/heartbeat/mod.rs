//! `POST .../clusters/{cluster}/heartbeat`: the agent says it is alive. One small in-place
//! write per beat, batched with the beats of other agents (see `beats`), no history row;
//! only a transition back to `ready` writes an event. The handlers are in `handlers`, the
//! batching writer in `beats`, its SQL in `store`.

pub mod beats;
pub mod handlers;
pub mod store;

use std::collections::BTreeMap;

use flotilla_core::auth::Agent;
use flotilla_core::{AppContext, Error, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use self::beats::{BeatOutcome, Beats};
use crate::metrics::ClusterMetrics;
use crate::registration::check_agent_version;
use crate::status::{self, Status};
use crate::Clusters;

/// Most figures one heartbeat may carry.
const MAX_FIGURES: usize = 32;

/// A heartbeat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The agent's version.
    #[schema(example = "0.17.2", pattern = "^[!-~]{1,64}$")]
    pub agent_version: String,
    /// Optional figures about the cluster (at most 32; names of 1-64 characters of
    /// `a-z0-9_`; finite numbers), e.g. `{"nodes": 3, "pods": 120}`.
    #[serde(default)]
    #[schema(schema_with = figures_schema)]
    pub figures: Option<BTreeMap<String, f64>>,
}

/// The schema of `figures`, with the limits [`check`] enforces.
fn figures_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[a-z0-9_]{1,64}$")),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new().schema_type(Type::Number).into(),
        )))
        .max_properties(Some(MAX_FIGURES))
        .build()
}

/// The answer to a heartbeat.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatAck {
    /// The cluster's status now: `ready`, or `stale` while the heartbeats of a cluster that
    /// went stale have not yet kept coming for `FLOTILLA_CLUSTER_RECOVER_AFTER`.
    pub status: Status,
    /// Its status before this heartbeat.
    pub previous_status: String,
    /// Send the next heartbeat within this many seconds to stay `ready`.
    pub stale_after_seconds: u64,
}

/// The agent as Flotilla sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentIdentity {
    /// The account.
    pub account: String,
    /// The cluster the assertion speaks for.
    pub cluster: String,
    /// The assertion's subject.
    #[schema(example = "spiffe://eu-1/ns/admiralty/id/agent")]
    pub subject: String,
    /// When the assertion expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Records a heartbeat of `agent`'s cluster (with `figures`, checked); the cluster's status
/// before and after it, by `clusters`' thresholds. A transition writes its event and
/// announcement.
pub async fn record_heartbeat(
    ctx: &AppContext,
    clusters: &Clusters,
    beats: &Beats,
    agent: &Agent,
    agent_version: String,
    figures: Option<serde_json::Value>,
) -> Result<BeatOutcome, Error> {
    let outcome = beats
        .beat(
            ctx,
            &clusters.settings,
            agent.cluster_id,
            agent_version,
            figures,
        )
        .await?;
    let outcome = outcome.ok_or_else(crate::agent::no_longer_registered)?;
    let BeatOutcome { before, after } = &outcome;
    if before != after.as_str() {
        record_transition(ctx, &clusters.metrics, agent.cluster_id, before, *after).await?;
        tracing::info!(account = %agent.account, cluster = %agent.cluster, from = %before, to = %after.as_str(), "cluster status changed");
    }
    Ok(outcome)
}

async fn record_transition(
    ctx: &AppContext,
    metrics: &ClusterMetrics,
    cluster: Uuid,
    from: &str,
    to: Status,
) -> Result<(), Error> {
    let mut tx = ctx.db.begin().await?;
    status::record_transitions(metrics, &mut tx, &[(cluster, from.to_owned(), to)]).await?;
    tx.commit().await?;
    Ok(())
}

/// The figures of `body`, as JSON, once its agent version and figures are checked.
pub fn check(body: &Heartbeat) -> Result<Option<serde_json::Value>, Error> {
    let mut errors = Vec::new();
    if let Err(e) = check_agent_version(&body.agent_version) {
        errors.push(FieldError::new("/agent_version", e));
    }
    if let Some(figures) = &body.figures {
        if figures.len() > MAX_FIGURES {
            errors.push(FieldError::new(
                "/figures",
                format!("at most {MAX_FIGURES} figures (got {})", figures.len()),
            ));
        }
        for (name, value) in figures.iter().take(MAX_FIGURES + 1) {
            let good_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !good_name {
                errors.push(FieldError::new(
                    format!("/figures/{}", name.chars().take(64).collect::<String>()),
                    "a figure's name must be 1-64 characters of a-z, 0-9 and _",
                ));
            } else if !value.is_finite() {
                errors.push(FieldError::new(
                    format!("/figures/{name}"),
                    "must be a finite number",
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(body
        .figures
        .as_ref()
        .and_then(|f| serde_json::to_value(f).ok()))
}
