//! Writing heartbeats in batches. Under load, many agents beat at once; rather than one
//! statement (and one commit) per beat, the beats waiting at a moment are written together
//! by one `UPDATE ... FROM unnest(...)`, like a group commit: the first beat of a quiet
//! moment goes alone at once, and beats arriving while a batch is written form the next.
//! Each beat is answered only once its batch is committed, with the cluster's status before
//! it. A heartbeat is a liveness signal that the next one replaces within seconds, so the
//! commit does not wait for the WAL to reach the disk (`synchronous_commit` off for these
//! transactions only): a crash can lose the last fraction of a second of beats, never other
//! data. The statement is in `store`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use flotilla_core::{AppContext, Error};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::store;
use crate::settings::ClusterSettings;
use crate::status::Status;

/// Most beats written by one statement.
const MAX_BATCH: usize = 512;
/// Beats that may wait for a batch before new ones wait for room.
const QUEUE: usize = 4096;

/// One heartbeat to write.
struct Beat {
    cluster: Uuid,
    agent_version: String,
    figures: Option<serde_json::Value>,
    /// What the beat did, or `None` when the cluster is no longer registered.
    answer: oneshot::Sender<Result<Option<BeatOutcome>, ()>>,
}

/// A cluster's status before and after a heartbeat, as stored.
#[derive(Debug, Clone)]
pub struct BeatOutcome {
    /// Before the beat.
    pub before: String,
    /// After it: `ready`, or `stale` while a stale cluster's beats are not yet steady.
    pub after: Status,
}

/// The handle handlers send beats through; the writer starts with the first beat and ends
/// when the last handle is dropped.
#[derive(Clone, Default)]
pub struct Beats {
    queue: Arc<OnceLock<mpsc::Sender<Beat>>>,
}

impl Beats {
    /// Records a heartbeat of `cluster`; its status before and after (by the thresholds of
    /// `settings`, the same for every beat of a process), `None` if it is not registered.
    pub async fn beat(
        &self,
        ctx: &AppContext,
        settings: &ClusterSettings,
        cluster: Uuid,
        agent_version: String,
        figures: Option<serde_json::Value>,
    ) -> Result<Option<BeatOutcome>, Error> {
        let failed = || Error::Unavailable("The heartbeat could not be recorded; retry.".into());
        let (answer, answered) = oneshot::channel();
        let beat = Beat {
            cluster,
            agent_version,
            figures,
            answer,
        };
        let queue = self.queue.get_or_init(|| {
            let (queue, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(write(ctx.clone(), settings.clone(), receiver));
            queue
        });
        queue.send(beat).await.map_err(|_| failed())?;
        answered.await.map_err(|_| failed())?.map_err(|()| failed())
    }
}

async fn write(ctx: AppContext, settings: ClusterSettings, mut receiver: mpsc::Receiver<Beat>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let written = write_batch(&ctx, &settings, &batch).await;
        if let Err(e) = &written {
            tracing::warn!(error = %e, beats = batch.len(), "writing heartbeats failed");
        }
        for beat in batch.drain(..) {
            let answer = match &written {
                Ok(previous) => Ok(previous.get(&beat.cluster).cloned()),
                Err(_) => Err(()),
            };
            let _ = beat.answer.send(answer);
        }
    }
}

/// Writes one batch; the status before and after it of each cluster found. A cluster that
/// beat twice in the batch is written once, with its last beat. The thresholds are
/// `settings`'.
async fn write_batch(
    ctx: &AppContext,
    settings: &ClusterSettings,
    batch: &[Beat],
) -> Result<HashMap<Uuid, BeatOutcome>, sqlx::Error> {
    let mut last: HashMap<Uuid, &Beat> = HashMap::with_capacity(batch.len());
    for beat in batch {
        last.insert(beat.cluster, beat);
    }
    let ids: Vec<Uuid> = last.keys().copied().collect();
    let versions: Vec<&str> = ids
        .iter()
        .map(|id| last[id].agent_version.as_str())
        .collect();
    let figures: Vec<Option<&serde_json::Value>> =
        ids.iter().map(|id| last[id].figures.as_ref()).collect();
    let rows = store::write_beats(
        &mut *ctx.db.acquire().await?,
        &ids,
        &versions,
        &figures,
        settings.cluster_stale_after.0.as_secs_f64(),
        settings.cluster_recover_after.0.as_secs_f64(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let after = Status::parse(&row.after);
            (
                row.id,
                BeatOutcome {
                    before: row.before,
                    after,
                },
            )
        })
        .collect())
}
