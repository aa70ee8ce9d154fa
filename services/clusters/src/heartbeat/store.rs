//! The SQL of heartbeats: one statement writes a whole batch of beats and moves each
//! cluster's status as the beat allows.

use sqlx::PgConnection;
use uuid::Uuid;

/// A cluster a batch wrote, with its stored status before and after its beat.
pub struct Written {
    /// The cluster.
    pub id: Uuid,
    /// Its status before the beat.
    pub before: String,
    /// Its status after it.
    pub after: String,
}

/// Writes one beat per cluster in one statement: the clusters `ids`, with their agents'
/// `versions` and `figures` at the same positions; returns the clusters found.
/// `stale_secs` is the silence after which a cluster is stale, `recover_secs` how long a
/// stale cluster's beats must keep coming before it is ready again. The statement's commit
/// does not wait for the WAL to reach the disk (see `heartbeat::beats`).
pub async fn write_beats(
    conn: &mut PgConnection,
    ids: &[Uuid],
    versions: &[&str],
    figures: &[Option<&serde_json::Value>],
    stale_secs: f64,
    recover_secs: f64,
) -> Result<Vec<Written>, sqlx::Error> {
    // A beat within the stale threshold of the last one continues the run (`beating_since`);
    // a stale cluster is ready again once its run is `recover` seconds long, so that a
    // cluster whose beats come and go leaves DNS once instead of flapping. A new or offline
    // cluster is ready at its first beat. Rows are locked in id order, so two replicas'
    // batches can never deadlock. `before` and `after` come through subqueries, whose
    // columns the macro cannot trace to a NOT NULL column: both are statuses, never null.
    sqlx::query_as!(
        Written,
        "UPDATE clusters c SET last_heartbeat_at = now(), agent_version = old.version, \
                figures = old.figures, beating_since = run.since, status = next.status, \
                status_changed_at = CASE WHEN old.status = next.status THEN c.status_changed_at ELSE now() END \
         FROM (SELECT k.id, k.status, k.last_heartbeat_at, k.beating_since, b.version, b.figures \
               FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS b(id, version, figures) \
               JOIN clusters k ON k.id = b.id ORDER BY k.id FOR UPDATE OF k) old, \
              LATERAL (SELECT CASE \
                  WHEN old.last_heartbeat_at > now() - make_interval(secs => $4) \
                  THEN coalesce(old.beating_since, old.last_heartbeat_at) ELSE now() END AS since) run, \
              LATERAL (SELECT CASE \
                  WHEN old.status = 'stale' AND run.since > now() - make_interval(secs => $5) \
                  THEN 'stale' ELSE 'ready' END AS status) next, \
              (SELECT set_config('synchronous_commit', 'off', true)) sync \
         WHERE c.id = old.id \
         RETURNING c.id, old.status AS \"before!\", next.status AS \"after!\"",
        ids,
        versions as &[&str],
        figures as &[Option<&serde_json::Value>],
        stale_secs,
        recover_secs,
    )
    .fetch_all(conn)
    .await
}
