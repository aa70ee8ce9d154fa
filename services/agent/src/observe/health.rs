//! Readiness: the agent is ready when Kubernetes answers its watches, its identity is loaded,
//! Flotilla knows its cluster, and Flotilla answers. Each condition holds its problem in
//! words, which `/readyz` shows, so a user reads there why the agent is not ready.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One condition of readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Condition {
    /// The watches of Ingresses, Services, EndpointSlices and Nodes are synced.
    Kubernetes,
    /// The identity CA is loaded from its Secret.
    Identity,
    /// Flotilla knows the cluster under this identity CA.
    Registration,
    /// Flotilla answers the agent's calls.
    Flotilla,
    /// The directory half watches Admiralty's resources and writes what they resolve into.
    Directory,
}

impl Condition {
    fn name(self) -> &'static str {
        match self {
            Condition::Kubernetes => "kubernetes",
            Condition::Identity => "identity",
            Condition::Registration => "registration",
            Condition::Flotilla => "flotilla",
            Condition::Directory => "directory",
        }
    }
}

/// The agent's readiness, condition by condition.
pub struct Health {
    problems: Mutex<BTreeMap<Condition, String>>,
}

impl Default for Health {
    fn default() -> Self {
        let pending = [
            (Condition::Kubernetes, "the watches have not synced yet"),
            (Condition::Identity, "the identity CA is not loaded yet"),
            (
                Condition::Registration,
                "not yet known whether Flotilla knows the cluster",
            ),
            (Condition::Flotilla, "Flotilla has not answered yet"),
            (
                Condition::Directory,
                "the directory half has not started yet",
            ),
        ];
        Health {
            problems: Mutex::new(
                pending
                    .into_iter()
                    .map(|(c, why)| (c, why.to_owned()))
                    .collect(),
            ),
        }
    }
}

impl Health {
    /// `condition` holds.
    pub fn ok(&self, condition: Condition) {
        if let Ok(mut p) = self.problems.lock() {
            p.remove(&condition);
        }
    }

    /// `condition` does not hold, because of `why`.
    pub fn problem(&self, condition: Condition, why: impl Into<String>) {
        if let Ok(mut p) = self.problems.lock() {
            p.insert(condition, why.into());
        }
    }

    /// The problems now, by condition name; empty when ready.
    pub fn problems(&self) -> BTreeMap<&'static str, String> {
        self.problems
            .lock()
            .map(|p| p.iter().map(|(c, why)| (c.name(), why.clone())).collect())
            .unwrap_or_default()
    }
}
