//! The directory's SQL: what it reads to build an account's snapshot (clusters, their identity
//! CAs and JWT authorities), whether an account publishes its bundles, and the JWT authorities
//! a cluster publishes. A change to any of them reaches every replica's cache through the
//! tables' triggers (`NOTIFY flotilla_directory`), not through this module.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One cluster of an account, as its directory documents are rendered from.
#[derive(Debug)]
pub struct ClusterEntry {
    /// The cluster's name: its trust domain.
    pub name: String,
    /// URL of its Kubernetes API server.
    pub server: String,
    /// The API server's CA certificate, DER.
    pub server_ca: Vec<u8>,
    /// Its bundle's sequence number.
    pub bundle_sequence: i64,
    /// The identity CAs it trusts, DER, oldest first.
    pub identity_cas: Vec<Vec<u8>>,
    /// The JWT authorities it publishes (a JSON array), if it ever published any.
    pub jwt_keys: Option<Value>,
}

/// Every cluster of `account`, in one statement: one consistent view of clusters, their CAs
/// and their JWT keys.
pub async fn clusters_of(
    conn: &mut PgConnection,
    account: Uuid,
) -> Result<Vec<ClusterEntry>, sqlx::Error> {
    // `ARRAY(...)` is never NULL; `j.keys` is, when the outer join finds no row.
    sqlx::query_as!(
        ClusterEntry,
        r#"SELECT c.name, c.server, c.server_ca, c.bundle_sequence,
                  ARRAY(SELECT i.certificate FROM cluster_identity_cas i
                        WHERE i.cluster_id = c.id ORDER BY i.added_at, i.sha256) AS "identity_cas!",
                  j.keys AS "jwt_keys?: Value"
           FROM clusters c LEFT JOIN cluster_jwt_authorities j ON j.cluster_id = c.id
           WHERE c.account_id = $1"#,
        account,
    )
    .fetch_all(&mut *conn)
    .await
}

/// The id of the account `name` if it publishes its SPIFFE bundles.
pub async fn publishing_account(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM accounts WHERE name = $1 AND publish_spiffe_bundles",
        name,
    )
    .fetch_optional(&mut *conn)
    .await
}

/// The id of the cluster `name` of `account`, locked against a concurrent publication (and
/// its deregistration) until the transaction ends; `None` when there is no such cluster.
pub async fn lock_cluster(
    conn: &mut PgConnection,
    account: Uuid,
    name: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM clusters WHERE account_id = $1 AND name = $2 FOR UPDATE",
        account,
        name,
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Makes `keys` the JWT authorities `cluster` publishes; whether they changed. Written only
/// when different, so the same set again keeps the bundle's sequence.
pub async fn write_jwt_authorities(
    conn: &mut PgConnection,
    cluster: Uuid,
    keys: &[Value],
) -> Result<bool, sqlx::Error> {
    // As text: the workspace's sqlx has no `json` feature, so its macros check `jsonb` as text.
    let keys = serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let written = sqlx::query!(
        "INSERT INTO cluster_jwt_authorities (cluster_id, keys) VALUES ($1, $2::text::jsonb) \
         ON CONFLICT (cluster_id) DO UPDATE SET keys = EXCLUDED.keys, updated_at = now() \
         WHERE cluster_jwt_authorities.keys IS DISTINCT FROM EXCLUDED.keys",
        cluster,
        keys,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// `cluster`'s bundle sequence number.
pub async fn bundle_sequence(conn: &mut PgConnection, cluster: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT bundle_sequence FROM clusters WHERE id = $1",
        cluster
    )
    .fetch_one(&mut *conn)
    .await
}
