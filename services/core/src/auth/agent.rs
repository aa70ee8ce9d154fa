//! A cluster's in-cluster agent, as the clusters service verified it from a cluster
//! assertion. Kept here, beside the other principals, so that every replica's caches forget
//! it on the same announcements (a deregistration or a removed CA cuts an agent off at once).

use uuid::Uuid;

/// An agent speaking for one cluster of one account.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The account's id.
    pub account_id: Uuid,
    /// The account's name.
    pub account: String,
    /// The cluster's id.
    pub cluster_id: Uuid,
    /// The cluster's name.
    pub cluster: String,
    /// The assertion's `sub`: the caller's identity, e.g. `spiffe://<cluster>/ns/admiralty/id/agent`.
    pub subject: String,
    /// When the assertion expires (Unix seconds).
    pub expires_at: i64,
    /// The SHA-256 of the identity CA its chain leads to.
    pub ca: [u8; 32],
}
