//! The SQL of cluster assertions: the identity CAs an assertion's chain may end at.

use sqlx::PgConnection;
use uuid::Uuid;

/// An identity CA that an assertion's chain may end at.
pub(super) struct Anchor {
    pub(super) account_id: Uuid,
    pub(super) cluster_id: Uuid,
    pub(super) cluster: String,
    /// The CA's DER.
    pub(super) certificate: Vec<u8>,
}

/// The identity CAs of the clusters of the account named `account` whose subject is one of
/// `names` (DER names), with their clusters.
pub(super) async fn anchors(
    conn: &mut PgConnection,
    account: &str,
    names: &[Vec<u8>],
) -> Result<Vec<Anchor>, sqlx::Error> {
    // The CAs named in the chain first (the subject index), then their clusters: the
    // planner, left to itself, may walk every cluster of the account instead and look for
    // their CAs, which its statistics make look cheap right after a burst of registrations
    // (measured: 50-110 ms per lookup at 15,000 clusters, stalling a fleet's heartbeats).
    // `certificate` comes through the CTE, which the macro cannot trace to its NOT NULL
    // column.
    sqlx::query_as!(
        Anchor,
        "WITH named AS MATERIALIZED (\
             SELECT cluster_id, certificate FROM cluster_identity_cas WHERE subject = ANY($2)) \
         SELECT a.id AS account_id, c.id AS cluster_id, c.name AS cluster, \
                named.certificate AS \"certificate!\" FROM named \
         JOIN clusters c ON c.id = named.cluster_id JOIN accounts a ON a.id = c.account_id \
         WHERE a.name = $1",
        account,
        names,
    )
    .fetch_all(conn)
    .await
}
