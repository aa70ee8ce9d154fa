//! Whether the Services behind an object can serve: a Service is ready when one endpoint of
//! its EndpointSlices is ready (ExternalName Services, which have none by design, count as
//! ready), and an object when one of its backends is.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;

/// The label EndpointSlices carry to name their Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The Services an Ingress sends traffic to (its rules' paths and its default backend).
pub fn ingress_backends(ingress: &Ingress) -> Vec<String> {
    let Some(spec) = &ingress.spec else {
        return Vec::new();
    };
    let mut names: BTreeSet<String> = BTreeSet::new();
    let paths = spec
        .rules
        .iter()
        .flatten()
        .filter_map(|r| r.http.as_ref())
        .flat_map(|h| h.paths.iter());
    for backend in paths
        .map(|p| &p.backend)
        .chain(spec.default_backend.as_ref())
    {
        if let Some(service) = &backend.service {
            names.insert(service.name.clone());
        }
    }
    names.into_iter().collect()
}

/// Whether an object's backends can serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// A backend has a ready endpoint (or the object names no Service backend).
    Ready,
    /// None of these Services has a ready endpoint.
    NoReadyEndpoint(Vec<String>),
}

/// The Services, by namespace and name, that have a ready endpoint, and the ExternalName
/// ones (which have none by design and count as ready).
pub struct ReadyBackends {
    ready: BTreeSet<(String, String)>,
}

impl ReadyBackends {
    /// The ready Services among `services`, from `slices`.
    pub fn of(services: &[Arc<Service>], slices: &[Arc<EndpointSlice>]) -> Self {
        let mut ready = BTreeSet::new();
        for slice in slices {
            let Some(service) = slice.labels().get(SERVICE_NAME_LABEL) else {
                continue;
            };
            // A nil `ready` condition means ready (discovery.k8s.io/v1).
            let any_ready = slice
                .endpoints
                .iter()
                .any(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true));
            if any_ready {
                ready.insert((slice.namespace().unwrap_or_default(), service.clone()));
            }
        }
        for service in services {
            let external =
                service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
            if external {
                ready.insert((service.namespace().unwrap_or_default(), service.name_any()));
            }
        }
        ReadyBackends { ready }
    }

    /// The health of an object in `namespace` whose backends are `backends`.
    pub fn health(&self, namespace: &str, backends: &[String]) -> Health {
        if backends.is_empty()
            || backends
                .iter()
                .any(|b| self.ready.contains(&(namespace.to_owned(), b.clone())))
        {
            Health::Ready
        } else {
            Health::NoReadyEndpoint(backends.to_vec())
        }
    }
}
