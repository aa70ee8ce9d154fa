//! The SQL of the endpoints: a cluster's one reported or withdrawn, its whole set read or
//! replaced in one transaction that writes only what differs, and an account's listed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Endpoint, EndpointChanges};
use crate::hosts::Host;

/// A stored endpoint of a cluster.
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    /// The host.
    pub host: String,
    /// Addresses, or one hostname.
    pub targets: Vec<String>,
    /// 0-255.
    pub weight: i16,
    /// As last reported.
    pub healthy: bool,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

impl StoredEndpoint {
    fn same_as(&self, endpoint: &Endpoint) -> bool {
        self.targets == endpoint.targets.to_strings()
            && self.weight == endpoint.weight
            && self.healthy == endpoint.healthy
    }
}

/// What storing one report did.
#[derive(Debug)]
pub struct Upserted {
    /// Whether the endpoint is new.
    pub created: bool,
    /// The endpoint as now stored.
    pub endpoint: StoredEndpoint,
    /// Its cluster's `region` label.
    pub region: Option<String>,
}

/// A cluster's endpoints, by host, with its `region` label.
#[derive(Debug)]
pub struct ClusterSet {
    /// The cluster's `region` label.
    pub region: Option<String>,
    /// Its endpoints, by host.
    pub endpoints: Vec<StoredEndpoint>,
}

/// An endpoint of an account, with its cluster.
#[derive(Debug)]
pub struct AccountEndpoint {
    /// The reporting cluster's name.
    pub cluster: String,
    /// Its `region` label.
    pub region: Option<String>,
    /// The endpoint.
    pub endpoint: StoredEndpoint,
}

/// Creates or replaces `cluster`'s endpoint; `None` when the cluster is gone.
pub async fn upsert(
    conn: &mut PgConnection,
    cluster: Uuid,
    account: Uuid,
    endpoint: &Endpoint,
) -> Result<Option<Upserted>, sqlx::Error> {
    // The CTE's columns all come out as nullable: `!` says what the INSERT guarantees.
    let row = sqlx::query!(
        r#"WITH up AS (
             INSERT INTO dns_endpoints (cluster_id, account_id, host, targets, weight, healthy)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (cluster_id, host) DO UPDATE SET targets = EXCLUDED.targets,
                 weight = EXCLUDED.weight, healthy = EXCLUDED.healthy, updated_at = now()
             RETURNING xmax = 0 AS created, host, targets, weight, healthy, updated_at)
         SELECT up.created AS "created!", up.host AS "host!", up.targets AS "targets!",
                up.weight AS "weight!", up.healthy AS "healthy!", up.updated_at AS "updated_at!",
                c.labels ->> 'region' AS region
         FROM up, clusters c WHERE c.id = $1"#,
        cluster,
        account,
        endpoint.host.as_str(),
        &endpoint.targets.to_strings(),
        endpoint.weight,
        endpoint.healthy,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Upserted {
        created: r.created,
        endpoint: StoredEndpoint {
            host: r.host,
            targets: r.targets,
            weight: r.weight,
            healthy: r.healthy,
            updated_at: r.updated_at,
        },
        region: r.region,
    }))
}

/// Deletes `cluster`'s endpoint for `host`; whether there was one.
pub async fn delete(
    conn: &mut PgConnection,
    cluster: Uuid,
    host: &Host,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM dns_endpoints WHERE cluster_id = $1 AND host = $2",
        cluster,
        host.as_str(),
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(deleted > 0)
}

/// The `region` label of `cluster`, locked against a concurrent replacement of its set (and
/// against its deregistration), or `None` when it is no longer registered.
async fn lock_cluster(
    conn: &mut PgConnection,
    cluster: Uuid,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT labels ->> 'region' FROM clusters WHERE id = $1 FOR NO KEY UPDATE",
        cluster,
    )
    .fetch_optional(&mut *conn)
    .await
}

/// The endpoints of the cluster `name` of `account`; `None` when there is no such cluster.
pub async fn load(
    conn: &mut PgConnection,
    account: Uuid,
    name: &str,
) -> Result<Option<ClusterSet>, sqlx::Error> {
    let cluster = sqlx::query!(
        "SELECT id, labels ->> 'region' AS region FROM clusters WHERE account_id = $1 AND name = $2",
        account,
        name,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(cluster) = cluster else {
        return Ok(None);
    };
    let endpoints = endpoints_of(conn, cluster.id).await?;
    Ok(Some(ClusterSet {
        region: cluster.region,
        endpoints,
    }))
}

async fn endpoints_of(
    conn: &mut PgConnection,
    cluster: Uuid,
) -> Result<Vec<StoredEndpoint>, sqlx::Error> {
    sqlx::query_as!(
        StoredEndpoint,
        "SELECT host, targets, weight, healthy, updated_at FROM dns_endpoints \
         WHERE cluster_id = $1 ORDER BY host",
        cluster,
    )
    .fetch_all(&mut *conn)
    .await
}

/// Makes `cluster`'s endpoints exactly `set` (hosts distinct): deletes those absent, writes
/// those new or different, and leaves the rest untouched (their `updated_at` too, and no
/// trigger fires for them). Call inside a transaction. `None` when the cluster is gone.
pub async fn replace(
    conn: &mut PgConnection,
    cluster: Uuid,
    account: Uuid,
    set: &[Endpoint],
) -> Result<Option<(ClusterSet, EndpointChanges)>, sqlx::Error> {
    let Some(region) = lock_cluster(conn, cluster).await? else {
        return Ok(None);
    };
    let mut stored: BTreeMap<String, StoredEndpoint> = endpoints_of(conn, cluster)
        .await?
        .into_iter()
        .map(|e| (e.host.clone(), e))
        .collect();
    let mut changes = EndpointChanges::default();
    let mut writes: Vec<&Endpoint> = Vec::new();
    for endpoint in set {
        match stored.get(endpoint.host.as_str()) {
            Some(current) if current.same_as(endpoint) => changes.unchanged += 1,
            Some(_) => {
                changes.updated += 1;
                writes.push(endpoint);
            }
            None => {
                changes.created += 1;
                writes.push(endpoint);
            }
        }
    }
    let listed: BTreeSet<&str> = set.iter().map(|e| e.host.as_str()).collect();
    let gone: Vec<String> = stored
        .keys()
        .filter(|h| !listed.contains(h.as_str()))
        .cloned()
        .collect();
    changes.withdrawn = gone.len() as u64;
    if !gone.is_empty() {
        sqlx::query!(
            "DELETE FROM dns_endpoints WHERE cluster_id = $1 AND host = ANY($2)",
            cluster,
            &gone,
        )
        .execute(&mut *conn)
        .await?;
        stored.retain(|h, _| listed.contains(h.as_str()));
    }
    if !writes.is_empty() {
        let hosts: Vec<&str> = writes.iter().map(|e| e.host.as_str()).collect();
        // One row per endpoint: its targets travel as a JSON array (as text: the macros know
        // no `jsonb`), since `unnest` would flatten an array of arrays.
        let targets: Vec<String> = writes
            .iter()
            .map(|e| serde_json::Value::from(e.targets.to_strings()).to_string())
            .collect();
        let weights: Vec<i16> = writes.iter().map(|e| e.weight).collect();
        let healthy: Vec<bool> = writes.iter().map(|e| e.healthy).collect();
        let written = sqlx::query_as!(
            StoredEndpoint,
            "INSERT INTO dns_endpoints (cluster_id, account_id, host, targets, weight, healthy) \
             SELECT $1, $2, w.host, ARRAY(SELECT jsonb_array_elements_text(w.targets)), w.weight, w.healthy \
             FROM unnest($3::text[], $4::text[]::jsonb[], $5::int2[], $6::bool[]) AS w(host, targets, weight, healthy) \
             ON CONFLICT (cluster_id, host) DO UPDATE SET targets = EXCLUDED.targets, \
                 weight = EXCLUDED.weight, healthy = EXCLUDED.healthy, updated_at = now() \
             RETURNING host, targets, weight, healthy, updated_at",
            cluster,
            account,
            &hosts as &[&str],
            &targets,
            &weights,
            &healthy,
        )
        .fetch_all(&mut *conn)
        .await?;
        stored.extend(written.into_iter().map(|e| (e.host.clone(), e)));
    }
    let endpoints = stored.into_values().collect();
    Ok(Some((ClusterSet { region, endpoints }, changes)))
}

/// The endpoints of `account`'s clusters, by host and cluster; only `host`'s when given (as
/// written, in any case, with or without the final dot).
pub async fn of_account(
    conn: &mut PgConnection,
    account: Uuid,
    host: Option<&str>,
) -> Result<Vec<AccountEndpoint>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT e.host, c.name AS cluster, c.labels ->> 'region' AS region, e.targets, e.weight, \
                e.healthy, e.updated_at \
         FROM dns_endpoints e JOIN clusters c ON c.id = e.cluster_id \
         WHERE e.account_id = $1 AND ($2::text IS NULL OR e.host = lower(trim(trailing '.' from $2))) \
         ORDER BY e.host, c.name",
        account,
        host,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AccountEndpoint {
            cluster: r.cluster,
            region: r.region,
            endpoint: StoredEndpoint {
                host: r.host,
                targets: r.targets,
                weight: r.weight,
                healthy: r.healthy,
                updated_at: r.updated_at,
            },
        })
        .collect())
}
