//! Events that tell users what the agent did, where `kubectl describe` shows them: on each
//! Ingress or Service it reports ("reported to Flotilla as …", or why not), and on its own Pod
//! (registration and identity problems). An Event is published when what there is to say
//! about an object changes, not at every reconcile; kube-rs's recorder folds repeats of one
//! note into a series. Publishing is best effort and happens in the background, so that a
//! thousand new Ingresses never hold up the reports: a failure is logged, never fatal, and
//! when the queue is full the excess is dropped (and logged).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tokio::sync::mpsc;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::Client;

use super::describe;
use crate::endpoints::{Decision, Note, Source};

/// The name Events give as their reporting controller.
pub const CONTROLLER: &str = "flotilla-agent";
/// Events waiting to be published before more are dropped.
const QUEUE: usize = 4096;

/// Publishes the agent's Events.
pub struct Events {
    queue: mpsc::Sender<(ObjectReference, Note)>,
    /// The agent's own Pod, when it runs in one.
    pod: Option<ObjectReference>,
    /// What was last said about each object.
    said: Mutex<HashMap<Source, Vec<Note>>>,
    /// What was last said about the agent itself.
    said_of_agent: Mutex<Option<Note>>,
}

impl Events {
    /// Events reported by `instance` (the pod's name), about `pod` when there is one.
    pub fn new(client: Client, instance: String, pod: Option<ObjectReference>) -> Self {
        let reporter = Reporter {
            controller: CONTROLLER.into(),
            instance: Some(instance),
        };
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(publish(Recorder::new(client, reporter), waiting));
        Events {
            queue,
            pod,
            said: Mutex::new(HashMap::new()),
            said_of_agent: Mutex::new(None),
        }
    }

    /// Publishes what changed in `decisions` since they were last published, and forgets the
    /// objects no longer among them.
    pub fn decisions(&self, decisions: &[Decision]) {
        let mut fresh: Vec<(&Source, &Note)> = Vec::new();
        {
            let Ok(mut said) = self.said.lock() else {
                return;
            };
            let present: HashSet<&Source> = decisions.iter().map(|d| &d.source).collect();
            said.retain(|source, _| present.contains(source));
            for decision in decisions {
                let before = said.get(&decision.source);
                if before == Some(&decision.notes) {
                    continue;
                }
                for note in &decision.notes {
                    if !before.is_some_and(|b| b.contains(note)) {
                        fresh.push((&decision.source, note));
                    }
                }
                said.insert(decision.source.clone(), decision.notes.clone());
            }
        }
        for (source, note) in fresh {
            self.enqueue(source.reference(), note.clone());
        }
    }

    /// Says `note` about the agent (on its Pod), unless it was the last thing said.
    pub fn agent(&self, note: Note) {
        let Some(pod) = &self.pod else {
            return;
        };
        {
            let Ok(mut said) = self.said_of_agent.lock() else {
                return;
            };
            if said.as_ref() == Some(&note) {
                return;
            }
            *said = Some(note.clone());
        }
        self.enqueue(pod.clone(), note);
    }

    fn enqueue(&self, reference: ObjectReference, note: Note) {
        if let Err(mpsc::error::TrySendError::Full((reference, note))) =
            self.queue.try_send((reference, note))
        {
            tracing::warn!(
                object = reference.name.as_deref().unwrap_or_default(),
                reason = note.reason,
                "too many Events waiting to be published; this one is dropped"
            );
        }
    }
}

/// Publishes what is queued, one at a time, until the agent stops.
async fn publish(recorder: Recorder, mut waiting: mpsc::Receiver<(ObjectReference, Note)>) {
    while let Some((reference, note)) = waiting.recv().await {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason.into(),
            note: Some(note.message.chars().take(1024).collect()),
            action: "Report".into(),
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::warn!(
                object = %format!("{}/{}", reference.namespace.as_deref().unwrap_or_default(), reference.name.as_deref().unwrap_or_default()),
                reason = note.reason,
                error = %describe(&e),
                "cannot publish an Event"
            );
        }
    }
}
