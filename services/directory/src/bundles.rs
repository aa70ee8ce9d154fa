//! SPIFFE bundles: the bundle map of an account (members and agents), which a client can
//! long-poll for its next change, and one trust domain's bundle served publicly for SPIFFE
//! federation (`https_web` profile) when the account publishes its bundles.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::Response;
use axum::Extension;
use flotilla_core::conditional::IfNoneMatch;
use flotilla_core::http::edge::MAX_LONG_POLL;
use flotilla_core::http::problem_responses::{
    NoSuchVisibleAccount, NotAuthenticatedOrAssertionRefused,
};
use flotilla_core::{AppContext, Error, Problem};
use serde::Deserialize;
use tokio::time::Instant;
use utoipa::IntoParams;

use crate::conditional::{answer, PRIVATE};
use crate::metrics::DirectoryMetrics;
use crate::reader::DirectoryReader;
use crate::snapshot::{BundleMap, SpiffeBundle};
use crate::store;
use crate::Directory;

/// A read of the bundle map.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// With `If-None-Match`: hold the request up to this many seconds (0-300) until the map
    /// differs from the caller's copy; then 200 with the new map, or 304 when time runs out.
    #[param(maximum = 300)]
    pub wait: Option<u32>,
}

/// The account's SPIFFE bundle map: one consistent snapshot of every trust domain.
#[utoipa::path(get, path = "/api/v1/accounts/{account}/bundles", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        MapQuery,
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the caller has"),
    ),
    responses(
        (status = 200, description = "The bundle map", body = BundleMap,
            headers(("ETag" = String, description = "Strong validator of this map"))),
        (status = 304, description = "The caller's copy (If-None-Match) is current (after waiting, when asked to)"),
        NotAuthenticatedOrAssertionRefused,
        NoSuchVisibleAccount,
        (status = 422, description = "`wait` out of range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []), ("cluster_assertion" = [])))]
pub async fn bundle_map(
    State(ctx): State<AppContext>,
    Extension(directory): Extension<Arc<Directory>>,
    reader: DirectoryReader,
    Query(query): Query<MapQuery>,
    if_none_match: IfNoneMatch,
) -> Result<Response, Error> {
    let wait = match query.wait {
        None => Duration::ZERO,
        Some(secs) if u64::from(secs) <= MAX_LONG_POLL.as_secs() => {
            Duration::from_secs(u64::from(secs))
        }
        Some(secs) => {
            return Err(Error::invalid(
                "wait",
                format!("at most {} seconds (got {secs})", MAX_LONG_POLL.as_secs()),
            ))
        }
    };
    // No wait, no timer: even a sleep already due waits for the timer's next tick (about a
    // millisecond), which would cap a plain revalidation's throughput.
    if wait.is_zero() {
        let snapshot = directory.snapshot(&ctx, reader.account_id).await?;
        return Ok(answer(
            &if_none_match,
            &snapshot.map,
            "application/json",
            PRIVATE,
        ));
    }
    let deadline = Instant::now() + wait;
    // Subscribed before the first read: a change after that read wakes this request.
    let mut changes = ctx.changes.subscribe(reader.account_id);
    let _waiting = Waiting::start(&directory.metrics);
    loop {
        changes.borrow_and_update();
        let snapshot = directory.snapshot(&ctx, reader.account_id).await?;
        let answer_now = || answer(&if_none_match, &snapshot.map, "application/json", PRIVATE);
        if !if_none_match.matches(&snapshot.map.etag) || ctx.changes.is_closing() {
            return Ok(answer_now());
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() {
                return Ok(answer_now());
            },
            () = tokio::time::sleep_until(deadline) => {
                return Ok(answer_now());
            }
        }
    }
}

/// Counts a long-poll (a request with `wait`) in `flotilla_directory_long_polls` while it
/// lives.
struct Waiting(prometheus_client::metrics::gauge::Gauge);

impl Waiting {
    fn start(metrics: &DirectoryMetrics) -> Self {
        metrics.long_polls.inc();
        Self(metrics.long_polls.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One trust domain's SPIFFE bundle, for SPIFFE federation: no authentication (`https_web`
/// profile), served only when the account publishes its bundles.
#[utoipa::path(get, path = "/spiffe/{account}/{cluster}/bundle", tag = "directory",
    params(
        ("account" = String, Path, description = "The account's name"),
        ("cluster" = String, Path, description = "The cluster (trust domain) name"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy the caller has"),
    ),
    responses(
        (status = 200, description = "The trust domain's bundle; `Cache-Control` max-age is the refresh hint", body = SpiffeBundle,
            headers(("ETag" = String, description = "Strong validator of this bundle"))),
        (status = 304, description = "The caller's copy (If-None-Match) is current"),
        (status = 404, description = "No such account or trust domain, or the account does not publish its bundles", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn public_bundle(
    State(ctx): State<AppContext>,
    Extension(directory): Extension<Arc<Directory>>,
    Path(path): Path<(String, String)>,
    if_none_match: IfNoneMatch,
) -> Result<Response, Error> {
    let (account, cluster) = path;
    // One answer for every miss, so the endpoint tells nothing about unpublished accounts.
    let not_found = || {
        Error::NotFound(
            "No published SPIFFE bundle here: the account or trust domain does not exist, or \
             the account does not publish its bundles."
                .into(),
        )
    };
    let account_id = store::publishing_account(&mut *ctx.db.acquire().await?, &account)
        .await?
        .ok_or_else(not_found)?;
    let snapshot = directory.snapshot(&ctx, account_id).await?;
    let docs = snapshot.clusters.get(&cluster).ok_or_else(not_found)?;
    let max_age = directory.settings.spiffe_refresh_hint.0.as_secs();
    let cache_control =
        HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(PRIVATE);
    Ok(answer(
        &if_none_match,
        &docs.bundle,
        "application/json",
        cache_control,
    ))
}
