use reqwest::header::CACHE_CONTROL;
use reqwest::Method;
use serde_json::{json, Value};

use super::{etag, fetch, token_of_acme, x509_authorities};
use crate::support::fleet::{identity, refused, Fleet};

/// Turns the account's public bundles on or off with `token`.
async fn publish(fleet: &Fleet, token: &str, on: bool) -> reqwest::Response {
    fleet
        .call(
            Method::PATCH,
            &fleet.acme(""),
            token,
            Some(json!({ "publish_spiffe_bundles": on })),
        )
        .await
}

#[tokio::test]
async fn bundles_are_public_for_federation_only_once_the_account_publishes_them() {
    let fleet = Fleet::start().await;
    let (ca, _) = identity("eu-1");
    fleet.register("eu-1", &ca).await;
    let public = fleet.flotilla.at("/spiffe/acme/eu-1/bundle");

    // Off by default: 404, the same answer as for an account that does not exist.
    let account = fleet.get(&fleet.acme(""), &fleet.admin).await;
    assert_eq!(account["publish_spiffe_bundles"], false);
    let off = refused(fetch(&fleet, &public, "", None).await, 404).await;
    let nobody = refused(
        fetch(
            &fleet,
            &fleet.flotilla.at("/spiffe/nobody/eu-1/bundle"),
            "",
            None,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(off["detail"], nobody["detail"]);

    // Only an admin turns it on.
    let viewer = token_of_acme(&fleet, "viewer").await;
    refused(publish(&fleet, &viewer, true).await, 403).await;
    refused(publish(&fleet, &fleet.other_admin, true).await, 404).await;
    let r = publish(&fleet, &fleet.admin, true).await;
    assert_eq!(r.status(), 200);
    let account: Value = r.json().await.expect("JSON");
    assert_eq!(account["publish_spiffe_bundles"], true);

    // No authentication (https_web), cacheable for the refresh hint, revalidated by ETag.
    let r = fetch(&fleet, &public, "", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "public, max-age=300");
    let tag = etag(r.headers());
    let bundle: Value = r.json().await.expect("JSON");
    assert_eq!(x509_authorities(&bundle), vec![ca.der()]);
    assert_eq!(bundle["spiffe_refresh_hint"], 300);
    assert!(bundle["spiffe_sequence"].as_i64().is_some());
    assert_eq!(fetch(&fleet, &public, "", Some(&tag)).await.status(), 304);
    refused(
        fetch(
            &fleet,
            &fleet.flotilla.at("/spiffe/acme/nope/bundle"),
            "",
            None,
        )
        .await,
        404,
    )
    .await;

    // The change is audited, and turning it off hides the bundles again at once.
    let audit = fleet.get(&fleet.acme("/audit"), &fleet.admin).await;
    assert!(
        audit["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "account.settings-changed"),
        "{audit}"
    );
    assert_eq!(publish(&fleet, &fleet.admin, false).await.status(), 200);
    refused(fetch(&fleet, &public, "", None).await, 404).await;

    let unknown = fleet
        .call(
            Method::PATCH,
            &fleet.acme(""),
            &fleet.admin,
            Some(json!({ "publish": true })),
        )
        .await;
    assert!(unknown.status().is_client_error());
}
