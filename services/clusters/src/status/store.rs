//! The SQL of cluster status: the sweep that moves silent clusters down, the events and
//! announcements of transitions, and the count of clusters by status.

use sqlx::PgConnection;
use uuid::Uuid;

/// A cluster the sweep moved, with its stored status before and after.
pub struct Moved {
    /// The cluster.
    pub id: Uuid,
    /// Its status before the sweep.
    pub old: String,
    /// Its status now.
    pub new: String,
}

/// Moves each cluster silent for longer than its stored status allows down, once, and
/// returns those it moved. `stale_secs` and `offline_secs` are the silences after which a
/// cluster is stale and offline. Rows another replica is moving are skipped, not waited for.
pub async fn sweep(
    conn: &mut PgConnection,
    stale_secs: f64,
    offline_secs: f64,
) -> Result<Vec<Moved>, sqlx::Error> {
    // `old` and `new` come through the CTE, whose columns the macro cannot trace to a
    // NOT NULL column: both are statuses, never null.
    sqlx::query_as!(
        Moved,
        "WITH due AS ( \
            SELECT c.id, c.status AS old, n.new FROM clusters c, LATERAL (SELECT CASE \
                WHEN c.last_heartbeat_at > now() - make_interval(secs => $1) THEN c.status \
                WHEN c.last_heartbeat_at > now() - make_interval(secs => $2) THEN 'stale' \
                ELSE 'offline' END AS new) n \
            WHERE c.status <> n.new \
            FOR UPDATE OF c SKIP LOCKED) \
         UPDATE clusters c SET status = due.new, status_changed_at = now() \
         FROM due WHERE c.id = due.id RETURNING c.id, due.old AS \"old!\", due.new AS \"new!\"",
        stale_secs,
        offline_secs,
    )
    .fetch_all(conn)
    .await
}

/// Records a `status` event for each cluster of `ids`, with the matching detail.
pub async fn insert_status_events(
    conn: &mut PgConnection,
    ids: &[Uuid],
    details: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cluster_events (cluster_id, kind, detail) \
         SELECT id, 'status', detail FROM unnest($1::uuid[], $2::text[]) AS t(id, detail)",
        ids,
        details,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Announces the clusters of `ids` on `channel` (delivered when the transaction commits).
pub async fn notify(
    conn: &mut PgConnection,
    channel: &str,
    ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_notify($1, id::text) FROM unnest($2::uuid[]) AS id",
        channel,
        ids,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many clusters have each stored status (statuses no cluster has are absent).
pub async fn count_by_status(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(r#"SELECT status, count(*) AS "count!" FROM clusters GROUP BY status"#)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.status, row.count))
        .collect())
}
