//! `PUT|GET .../clusters/{cluster}/jwt-authorities`: the `jwt-svid` keys a cluster publishes
//! in its SPIFFE bundle, e.g. its service-account issuer's keys, so other clusters can verify
//! its JWT-SVIDs. Set by an admin or by the cluster's own agent; a new set gives the bundle
//! the next sequence number, the same set again changes nothing. The SQL is in `store`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Extension;
use axum::Json;
use flotilla_clusters::agent::Reader;
use flotilla_clusters::clusters::{no_such_cluster, record_event};
use flotilla_core::audit::{Actor, Entry, Origin};
use flotilla_core::auth::Role;
use flotilla_core::http::problem_responses::{
    NoSuchAccountOrCluster, NotAuthenticatedOrAssertionRefused,
};
use flotilla_core::{AppContext, Error, Problem};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::reader::DirectoryReader;
use crate::Directory;
use crate::{jwk, store};

/// A cluster's published JWT authorities.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwtAuthorities {
    /// The keys, as published (`use` is `jwt-svid`; only public parameters).
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Value>,
    /// The cluster's bundle sequence number after this request.
    pub spiffe_sequence: i64,
    /// Whether this request changed the set (answers to PUT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
}

/// A JWK Set (`{"keys": [...]}`) of public RSA or EC keys, each with a unique `kid`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JwkSet {
    /// The keys (RFC 7517): `kty` RSA (2048-8192 bits; alg RS256/384/512, PS256/384/512) or
    /// EC (P-256, P-384, P-521; alg ES256/384/512), `kid` required and unique, no private
    /// parameters. At most 32 keys and 64 KiB.
    #[schema(schema_with = keys_schema)]
    keys: Vec<Value>,
}

/// The schema of a JWK Set's keys: what every key needs before its parameters are read (the
/// key material itself is checked by the server alone).
fn keys_schema() -> Array {
    let key = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "kty",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["RSA", "EC"])),
        )
        .property(
            "kid",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(jwk::MAX_KID_LEN))
                .pattern(Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$")),
        )
        .required("kty")
        .required("kid");
    ArrayBuilder::new()
        .items(key)
        .max_items(Some(jwk::MAX_KEYS))
        .build()
}

/// Replaces the cluster's published JWT authorities.
#[utoipa::path(put, path = "/api/v1/accounts/{account}/clusters/{cluster}/jwt-authorities", operation_id = "put_jwt_authorities", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    request_body(content = JwkSet, content_type = "application/json"),
    responses(
        (status = 200, description = "The published set", body = JwtAuthorities),
        NotAuthenticatedOrAssertionRefused,
        (status = 403, description = "Needs the admin role, or the cluster's own agent", body = Problem, content_type = "application/problem+json"),
        NoSuchAccountOrCluster,
        (status = 422, description = "A key refused; each error names the member and why", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn put(
    State(ctx): State<AppContext>,
    reader: Reader,
    origin: Origin,
    Path(path): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<JwtAuthorities>, Error> {
    let (_, cluster) = path;
    let actor = match &reader {
        Reader::Member(access) => {
            access.require(Role::Admin)?;
            Actor::of(&ctx, &access.caller).await?
        }
        Reader::Agent(agent) => Actor::agent(agent),
    };
    let keys = jwk::check_jwt_authorities(&body).map_err(Error::Validation)?;
    let published = publish(&ctx, &reader, &actor, &origin, &cluster, &keys).await?;
    Ok(Json(JwtAuthorities {
        keys,
        spiffe_sequence: published.sequence,
        changed: Some(published.changed),
    }))
}

/// What publishing a set did.
struct Published {
    /// Whether the set differed from the one published.
    changed: bool,
    /// The cluster's bundle sequence number now.
    sequence: i64,
}

/// Publishes `keys` for `cluster` in one transaction, with its cluster event and audit entry
/// when the set changed; then wakes the account's long-polls.
async fn publish(
    ctx: &AppContext,
    reader: &Reader,
    actor: &Actor,
    origin: &Origin,
    cluster: &str,
    keys: &[Value],
) -> Result<Published, Error> {
    let mut tx = ctx.db.begin().await?;
    let id = store::lock_cluster(&mut tx, reader.account_id(), cluster)
        .await?
        .ok_or_else(|| no_such_cluster(reader.account(), cluster))?;
    let changed = store::write_jwt_authorities(&mut tx, id, keys).await?;
    if changed {
        let kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
        let detail = format!("JWT authorities published: {}", kid_list(&kids));
        record_event(&mut tx, id, "jwt-authorities", &detail).await?;
        Entry {
            account_id: reader.account_id(),
            actor,
            origin,
            action: "cluster.jwt-authorities-updated",
            target: cluster,
            details: serde_json::json!({ "kids": kids }),
        }
        .record(&mut tx)
        .await?;
    }
    let sequence = store::bundle_sequence(&mut tx, id).await?;
    tx.commit().await?;
    if changed {
        ctx.changes.bump(reader.account_id());
    }
    Ok(Published { changed, sequence })
}

fn kid_list(kids: &[&str]) -> String {
    if kids.is_empty() {
        "none".into()
    } else {
        kids.join(", ")
    }
}

/// The cluster's published JWT authorities.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/clusters/{cluster}/jwt-authorities", operation_id = "get_jwt_authorities", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster's name"),
    ),
    responses(
        (status = 200, description = "The published set", body = JwtAuthorities),
        NotAuthenticatedOrAssertionRefused,
        NoSuchAccountOrCluster,
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn get(
    State(ctx): State<AppContext>,
    Extension(directory): Extension<Arc<Directory>>,
    reader: DirectoryReader,
    Path(path): Path<(String, String)>,
) -> Result<Json<JwtAuthorities>, Error> {
    let (_, cluster) = path;
    let docs = crate::lookups::lookup(&ctx, &directory, &reader, &cluster).await?;
    Ok(Json(JwtAuthorities {
        keys: docs.jwt_authorities.clone(),
        spiffe_sequence: docs.spiffe_sequence,
        changed: None,
    }))
}
