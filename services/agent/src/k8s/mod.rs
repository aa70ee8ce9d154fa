//! The agent's Kubernetes side, through kube-rs: the watches (reflectors) of what it reports,
//! the Lease that lets one replica of two act, and the Events that tell users what it did.

pub mod events;
pub mod lease;
pub mod watches;

/// Whether a Kubernetes answer is a 404. Read from the status code, not the reason, which
/// some API servers and emulators word differently.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 404)
}

/// Whether a Kubernetes answer is a 409 (already exists, or a stale resourceVersion).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 409)
}

/// A Kubernetes failure, in words for a log line or a readiness problem.
pub fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden: {} (does the agent's RBAC of deploy/agent allow it?)",
            status.message
        ),
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}
