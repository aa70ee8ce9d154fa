//! Tenant isolation: a member of one account gets 404 on every path of another, with a
//! session or with an API token, exactly as for an account that does not exist.

use reqwest::Method;
use serde_json::json;

use crate::support::oidc::{Browser, Flotilla};

#[tokio::test]
async fn members_of_one_account_get_404_on_every_path_of_another() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    let origin = Some(flotilla.url.as_str());
    let mut alice = Browser::new();
    alice.log_in(&flotilla.url, "alice@example.com").await;
    let mut mallory = Browser::new();
    mallory.log_in(&flotilla.url, "mallory@example.com").await;
    alice.create_account(&flotilla.url, "alpha").await;
    mallory.create_account(&flotilla.url, "mallet").await;
    let expires = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let created = alice.create_token(&flotilla.url, "alpha", "owner", 1).await;
    let alpha_token_id = created["id"].as_str().expect("an id").to_owned();
    let mallet_token = mallory
        .create_token(&flotilla.url, "mallet", "owner", 1)
        .await;
    let mallet_token = mallet_token["token"].as_str().expect("a token").to_owned();

    let paths = [
        (Method::GET, "/api/v1/accounts/alpha".to_owned(), None),
        (
            Method::GET,
            "/api/v1/accounts/alpha/members".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/accounts/alpha/members".to_owned(),
            Some(json!({"email": "m@example.com", "role": "owner"})),
        ),
        (
            Method::DELETE,
            "/api/v1/accounts/alpha/members/alice@example.com".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/accounts/alpha/tokens".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/accounts/alpha/tokens".to_owned(),
            Some(json!({"name": "x", "role": "owner", "expires_at": expires})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/accounts/alpha/tokens/{alpha_token_id}"),
            None,
        ),
    ];
    for (method, path, body) in &paths {
        let r = mallory
            .json(method.clone(), &flotilla.at(path), body.clone(), origin)
            .await;
        let seen = crate::support::problem::expect_problem(r, 404, "not-found").await;
        let r = mallory
            .json(
                method.clone(),
                &flotilla.at(&path.replace("alpha", "nonexistent")),
                body.clone(),
                origin,
            )
            .await;
        let absent = crate::support::problem::expect_problem(r, 404, "not-found").await;
        assert_eq!(
            seen["detail"].as_str().map(|d| d.replace("alpha", "X")),
            absent["detail"]
                .as_str()
                .map(|d| d.replace("nonexistent", "X")),
            "an existing account looks exactly like a missing one"
        );
        let mut request = reqwest::Client::new()
            .request(method.clone(), flotilla.at(path))
            .bearer_auth(&mallet_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let r = request.send().await.expect("answered");
        crate::support::problem::expect_problem(r, 404, "not-found").await;
    }
    // Nothing was changed in alpha.
    let members: serde_json::Value = alice
        .json(
            Method::GET,
            &flotilla.at("/api/v1/accounts/alpha/members"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(members.as_array().expect("a list").len(), 1, "{members}");
}
