//! The agents' heartbeat and whoami endpoints.

use std::sync::Arc;

use axum::extract::State;
use axum::Extension;
use axum::Json;
use flotilla_core::http::problem_responses::AssertionOfAnotherCluster;
use flotilla_core::{AppContext, Error, Problem};

use super::beats::{BeatOutcome, Beats};
use super::{check, record_heartbeat, AgentIdentity, Heartbeat, HeartbeatAck};
use crate::agent::AgentOf;
use crate::responses::NoAssertionDetailSaysWhy;
use crate::Clusters;

/// Records a heartbeat of the agent's own cluster.
#[utoipa::path(post, path = "/api/v1/accounts/{account}/clusters/{cluster}/heartbeat", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    request_body = Heartbeat,
    responses(
        (status = 200, description = "Recorded; the cluster is ready (or still stale while its heartbeats become steady again)", body = HeartbeatAck),
        NoAssertionDetailSaysWhy,
        AssertionOfAnotherCluster,
        (status = 422, description = "A bad agent version or figure", body = Problem, content_type = "application/problem+json"),
    ),
    security(("cluster_assertion" = [])))]
pub async fn heartbeat(
    State(ctx): State<AppContext>,
    Extension(clusters): Extension<Arc<Clusters>>,
    Extension(beats): Extension<Beats>,
    AgentOf(agent): AgentOf,
    Json(body): Json<Heartbeat>,
) -> Result<Json<HeartbeatAck>, Error> {
    let figures = check(&body)?;
    let BeatOutcome { before, after } =
        record_heartbeat(&ctx, &clusters, &beats, &agent, body.agent_version, figures).await?;
    Ok(Json(HeartbeatAck {
        status: after,
        previous_status: before,
        stale_after_seconds: clusters.settings.cluster_stale_after.0.as_secs(),
    }))
}

/// Who the assertion authenticates: for an agent to check its set-up (the agents'
/// counterpart of `GET /api/v1/me`). Costs no database round trip with a reused assertion.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/whoami", tag = "clusters",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 200, description = "The authenticated agent", body = AgentIdentity),
        NoAssertionDetailSaysWhy,
        AssertionOfAnotherCluster,
    ),
    security(("cluster_assertion" = [])))]
pub async fn whoami(AgentOf(agent): AgentOf) -> Json<AgentIdentity> {
    Json(AgentIdentity {
        account: agent.account,
        cluster: agent.cluster,
        subject: agent.subject,
        expires_at: chrono::DateTime::from_timestamp(agent.expires_at, 0).unwrap_or_default(),
    })
}
