//! The cluster's endpoints in global DNS: what its Ingresses and annotated LoadBalancer
//! Services should report (`desired`, a pure function), and keeping Flotilla's copy equal to
//! it (`reporter`): one call per changed host as watch events come, and the whole set in one
//! call at start, on a schedule, and after any failure, so nothing stale survives.

pub mod backends;
pub mod checks;
pub mod desired;
pub mod reporter;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::{Resource, ResourceExt};

/// What the cluster reports for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Addresses (sorted), or one hostname.
    pub targets: Vec<String>,
    /// 0-255.
    pub weight: i64,
    /// Whether a backend can serve.
    pub healthy: bool,
}

/// An object that offers hosts: an Ingress or a Service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    /// `Ingress` or `Service`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid (a real API server always has one).
    pub uid: Option<String>,
    /// Its API version.
    pub api_version: &'static str,
}

impl Source {
    /// The source for `object` of `kind`.
    pub fn of<K: Resource<DynamicType = ()>>(object: &K, kind: &'static str) -> Self {
        Source {
            kind,
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
            uid: object.uid(),
            api_version: if kind == "Ingress" {
                "networking.k8s.io/v1"
            } else {
                "v1"
            },
        }
    }

    /// The reference its Events point at.
    pub fn reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some(self.api_version.to_owned()),
            kind: Some(self.kind.to_owned()),
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: self.uid.clone(),
            ..ObjectReference::default()
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// What became of one source object: the notes its Events say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The object.
    pub source: Source,
    /// What to tell about it, most important first.
    pub notes: Vec<Note>,
}

/// One thing to tell about an object: an Event's type, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// A warning (something to fix) or not.
    pub warning: bool,
    /// The Event's reason, in PascalCase.
    pub reason: &'static str,
    /// The Event's message.
    pub message: String,
}

impl Note {
    /// A normal note.
    pub fn normal(reason: &'static str, message: impl Into<String>) -> Self {
        Note {
            warning: false,
            reason,
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warning(reason: &'static str, message: impl Into<String>) -> Self {
        Note {
            warning: true,
            reason,
            message: message.into(),
        }
    }
}
