//! API tokens and members, through the API with a session.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::oidc::{Browser, Flotilla};

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

async fn bearer(flotilla: &Flotilla, method: Method, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, flotilla.at(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_and_stop_when_revoked() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let origin = Some(flotilla.url.as_str());
    browser.create_account(&flotilla.url, "acme").await;
    let url = flotilla.at("/api/v1/accounts/acme/tokens");

    // Bounded input: expiry required, in the future, within a year; a sane name.
    for (body, field) in [
        (json!({"name": "ci", "role": "viewer"}), None),
        (
            json!({"name": "ci", "role": "viewer", "expires_at": in_days(400)}),
            Some("/expires_at"),
        ),
        (
            json!({"name": "ci", "role": "viewer", "expires_at": in_days(-1)}),
            Some("/expires_at"),
        ),
        (
            json!({"name": "", "role": "viewer", "expires_at": in_days(30)}),
            Some("/name"),
        ),
        (
            json!({"name": "ci", "role": "root", "expires_at": in_days(30)}),
            None,
        ),
    ] {
        let r = browser
            .json(Method::POST, &url, Some(body.clone()), origin)
            .await;
        let problem = crate::support::problem::expect_problem(r, 422, "validation").await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        }
    }

    let r = browser
        .json(
            Method::POST,
            &url,
            Some(json!({"name": "ci", "role": "viewer", "expires_at": in_days(30)})),
            origin,
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("JSON");
    let token = created["token"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(
        token.starts_with(created["prefix"].as_str().expect("a prefix")),
        "{created}"
    );

    let listed: Value = browser
        .json(Method::GET, &url, None, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed.as_array().expect("a list").len(), 1);
    assert!(
        listed[0].get("token").is_none(),
        "no secret in lists: {listed}"
    );
    assert!(listed[0]["last_used_at"].is_null());
    let stored = sqlx::query_scalar!("SELECT secret_hash FROM api_tokens")
        .fetch_one(&flotilla.ctx.db)
        .await
        .expect("a row");
    assert_eq!(stored.len(), 32, "stored as a SHA-256, not the secret");

    let account = bearer(&flotilla, Method::GET, "/api/v1/accounts/acme", &token).await;
    assert_eq!(account.status(), 200);
    let account: Value = account.json().await.expect("JSON");
    assert_eq!(account["role"], "viewer");
    // A viewer token cannot create tokens.
    let r = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"name": "x", "role": "viewer", "expires_at": in_days(1)}))
        .send()
        .await
        .expect("answered");
    crate::support::problem::expect_problem(r, 403, "forbidden").await;
    let listed: Value = browser
        .json(Method::GET, &url, None, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert!(
        !listed[0]["last_used_at"].is_null(),
        "last use is recorded: {listed}"
    );

    let id = created["id"].as_str().expect("an id");
    let r = browser
        .json(Method::DELETE, &format!("{url}/{id}"), None, origin)
        .await;
    assert_eq!(r.status(), 204);
    let r = bearer(&flotilla, Method::GET, "/api/v1/accounts/acme", &token).await;
    crate::support::problem::expect_problem(r, 401, "unauthorized").await;
    let r = browser
        .json(Method::DELETE, &format!("{url}/not-a-uuid"), None, origin)
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn owners_add_members_by_email_and_invitees_join_at_first_log_in() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    let origin = Some(flotilla.url.as_str());
    let mut owner = Browser::new();
    owner.log_in(&flotilla.url, "olga@example.com").await;
    owner.create_account(&flotilla.url, "fleet").await;
    let members = flotilla.at("/api/v1/accounts/fleet/members");
    let r = owner
        .json(
            Method::POST,
            &members,
            Some(json!({"email": "Pete@Example.com", "role": "admin"})),
            origin,
        )
        .await;
    assert_eq!(r.status(), 201);
    let invited: Value = r.json().await.expect("JSON");
    assert_eq!(invited["invited"], true);
    let r = owner
        .json(
            Method::POST,
            &members,
            Some(json!({"email": "not an email", "role": "admin"})),
            origin,
        )
        .await;
    crate::support::problem::expect_problem(r, 422, "validation").await;

    let mut pete = Browser::new();
    let landed = pete.log_in(&flotilla.url, "pete@example.com").await;
    assert_eq!(
        landed.url.path(),
        "/console/fleet",
        "an invited person has an account: no sign-up, straight to its console"
    );
    let me: Value = pete
        .json(Method::GET, &flotilla.at("/api/v1/me"), None, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["accounts"], json!([{"name": "fleet", "role": "admin"}]));

    // Admins are not owners: they cannot manage members.
    let r = pete
        .json(
            Method::DELETE,
            &format!("{members}/olga@example.com"),
            None,
            origin,
        )
        .await;
    crate::support::problem::expect_problem(r, 403, "forbidden").await;
    // The last owner cannot leave.
    let r = owner
        .json(
            Method::DELETE,
            &format!("{members}/olga@example.com"),
            None,
            origin,
        )
        .await;
    crate::support::problem::expect_problem(r, 409, "conflict").await;
    let list: Value = owner
        .json(Method::GET, &members, None, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(list.as_array().expect("a list").len(), 2, "{list}");
    // Removing pete takes effect at once.
    let r = owner
        .json(
            Method::DELETE,
            &format!("{members}/pete@example.com"),
            None,
            origin,
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = pete
        .json(
            Method::GET,
            &flotilla.at("/api/v1/accounts/fleet"),
            None,
            None,
        )
        .await;
    crate::support::problem::expect_problem(r, 404, "not-found").await;
}

#[tokio::test]
async fn unverified_emails_never_match_and_tokens_cannot_mint_tokens() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let origin = Some(flotilla.url.as_str());
    browser.create_account(&flotilla.url, "acme").await;
    // Someone logged in once claiming an email their provider did not verify.
    sqlx::query!("INSERT INTO persons (id, issuer, subject, email, email_verified) VALUES ($1, 'https://lax.example', 's', 'sneaky@example.com', false)", uuid::Uuid::new_v4())
        .execute(&flotilla.ctx.db)
        .await
        .expect("a person");
    let r = browser
        .json(
            Method::POST,
            &flotilla.at("/api/v1/accounts/acme/members"),
            Some(json!({"email": "sneaky@example.com", "role": "owner"})),
            origin,
        )
        .await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.expect("JSON");
    assert_eq!(
        added["invited"], true,
        "an unverified email is only an invitation: {added}"
    );

    let url = flotilla.at("/api/v1/accounts/acme/tokens");
    let created: Value = browser
        .json(
            Method::POST,
            &url,
            Some(json!({"name": "admin", "role": "admin", "expires_at": in_days(1)})),
            origin,
        )
        .await
        .json()
        .await
        .expect("JSON");
    let r = reqwest::Client::new()
        .post(&url)
        .bearer_auth(created["token"].as_str().expect("a token"))
        .json(&json!({"name": "child", "role": "admin", "expires_at": in_days(300)}))
        .send()
        .await
        .expect("answered");
    crate::support::problem::expect_problem(r, 403, "forbidden").await;
}
