//! Browser log-in at the upstream provider, sign-up, sessions, CSRF and the failure cases.

use reqwest::Method;
use serde_json::json;

use crate::support::oidc::{callback_url, Browser, Flotilla, Provider};

#[tokio::test]
async fn a_new_person_logs_in_signs_up_and_sees_their_account() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    let mut browser = Browser::new();
    let landed = browser.log_in(&flotilla.url, "ada@example.com").await;
    assert_eq!(landed.status, 200, "{}", landed.body);
    assert_eq!(
        landed.url.path(),
        "/signup",
        "a person with no account lands on sign-up"
    );
    assert!(
        landed
            .trail
            .iter()
            .any(|u| u.contains("/auth/callback?code=")),
        "{:?}",
        landed.trail
    );
    assert!(landed.body.contains("Create your account"));
    assert!(
        landed.body.contains(".flotilla.localhost"),
        "the resulting domain is shown"
    );

    // The session cookie: __Host-, HttpOnly, Secure (not development mode), SameSite=Lax.
    let cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-flotilla_session=") && !c.contains("Max-Age=0"))
        .expect("a session cookie");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    // Reserved and invalid names are refused on the page, with the reason.
    let refused = browser
        .submit(&flotilla.at("/signup"), &[("name", "admin")], &flotilla.url)
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("reserved"), "{}", refused.body);
    let created = browser
        .submit(&flotilla.at("/signup"), &[("name", "acme")], &flotilla.url)
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(
        created.body.contains("acme.flotilla.localhost"),
        "{}",
        created.body
    );

    let me = browser
        .json(Method::GET, &flotilla.at("/api/v1/me"), None, None)
        .await;
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.expect("JSON");
    assert_eq!(me["person"]["email"], "ada@example.com");
    assert_eq!(me["person"]["name"], "Ada");
    assert_eq!(me["accounts"], json!([{ "name": "acme", "role": "owner" }]));

    // A taken name is a 409 with a clear detail, for anyone.
    let mut other = Browser::new();
    other.log_in(&flotilla.url, "bob@example.com").await;
    let taken = other
        .json(
            Method::POST,
            &flotilla.at("/api/v1/accounts"),
            Some(json!({ "name": "acme" })),
            Some(&flotilla.url),
        )
        .await;
    let body = crate::support::problem::expect_problem(taken, 409, "conflict").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("taken"),
        "{body}"
    );

    // Log-out ends the session: the same cookie no longer works.
    let session = browser
        .cookie(&flotilla.url, "__Host-flotilla_session")
        .expect("a session");
    let out = browser
        .submit(&flotilla.at("/logout"), &[], &flotilla.url)
        .await;
    assert_eq!(out.status, 200);
    let stale = reqwest::Client::new()
        .get(flotilla.at("/api/v1/me"))
        .header("cookie", format!("__Host-flotilla_session={session}"))
        .send()
        .await
        .expect("answered");
    crate::support::problem::expect_problem(stale, 401, "unauthorized").await;
}

#[tokio::test]
async fn cookie_requests_from_another_origin_are_refused() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    let mut browser = Browser::new();
    browser.log_in(&flotilla.url, "eve@example.com").await;
    let url = flotilla.at("/api/v1/accounts");
    let body = Some(json!({ "name": "evil" }));
    for origin in [None, Some("http://evil.example")] {
        let r = browser.json(Method::POST, &url, body.clone(), origin).await;
        let problem = crate::support::problem::expect_problem(r, 403, "forbidden").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or("")
                .contains("Cross-site"),
            "{problem}"
        );
    }
    let ok = browser
        .json(Method::POST, &url, body, Some(&flotilla.url))
        .await;
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn a_wrong_state_or_a_replayed_callback_is_a_clear_error_page() {
    let (flotilla, _provider) = Flotilla::with_provider().await;
    let mut browser = Browser::new();
    let wrong = browser
        .get(&flotilla.at("/auth/callback?code=abc&state=not-ours"))
        .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("expired or was already completed"),
        "{}",
        wrong.body
    );

    let callback = callback_url(&mut browser, &flotilla.url, "carol@example.com").await;
    let first = browser.get(&callback).await;
    assert_eq!(first.url.path(), "/signup", "{first:?}");
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("already completed"), "{}", replay.body);

    // A callback carried to another browser (no log-in cookie) is refused too.
    let mut thief = Browser::new();
    let stolen = callback_url(&mut Browser::new(), &flotilla.url, "carol@example.com").await;
    let page = thief.get(&stolen).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("another browser"), "{}", page.body);
}

#[tokio::test]
async fn tampered_id_tokens_are_refused_with_the_reason() {
    let (flotilla, provider) = Flotilla::with_provider().await;
    let cases = [
        (json!({ "nonce": "not-the-one-we-sent" }), "wrong nonce"),
        (json!({ "aud": "someone-else" }), "meant for another client"),
        (json!({ "exp": 1, "iat": 0 }), "expired"),
        (json!({ "iss": "http://127.0.0.1:1" }), "another issuer"),
    ];
    for (claims, reason) in cases {
        provider.mischief(claims.clone()).await;
        let mut browser = Browser::new();
        let page = browser.log_in(&flotilla.url, "mallory@example.com").await;
        assert_eq!(page.status, 401, "{claims}: {}", page.body);
        assert!(page.body.contains(reason), "{claims}: {}", page.body);
        assert!(browser
            .cookie(&flotilla.url, "__Host-flotilla_session")
            .is_none());
    }
}

#[tokio::test]
async fn a_provider_that_is_down_is_a_503_page_not_a_500() {
    let port = flotilla_core::db::embedded::free_port().expect("a free port");
    let down = format!(
        "http://127.0.0.1:{}",
        flotilla_core::db::embedded::free_port().expect("a port")
    );
    let flotilla =
        Flotilla::start_on(port, &["--oidc-issuer", &down, "--oidc-client-id", "x"]).await;
    let page = Browser::new().get(&flotilla.at("/login")).await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("cannot be reached"), "{}", page.body);
}

#[tokio::test]
async fn several_providers_are_buttons_and_each_logs_in() {
    let port = flotilla_core::db::embedded::free_port().expect("a free port");
    let redirect = format!("http://127.0.0.1:{port}/auth/callback");
    let (a, b) = (
        Provider::start(&redirect).await,
        Provider::start(&redirect).await,
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("providers.toml");
    let secret = crate::support::oidc::CLIENT_SECRET;
    std::fs::write(
        &file,
        format!(
            "[[providers]]\nid = \"alpha\"\nname = \"Alpha SSO\"\nissuer = \"{}\"\nclient_id = \"flotilla\"\nclient_secret = \"{secret}\"\n\n\
             [[providers]]\nid = \"beta\"\nname = \"Beta Login\"\nissuer = \"{}\"\nclient_id = \"flotilla\"\nclient_secret = \"{secret}\"\n",
            a.issuer, b.issuer
        ),
    )
    .expect("write the providers file");
    let flotilla = Flotilla::start_on(
        port,
        &["--oidc-providers-file", file.to_str().expect("utf-8")],
    )
    .await;
    let mut browser = Browser::new();
    let choice = browser.get(&flotilla.at("/login")).await;
    assert!(
        choice.body.contains("Alpha SSO") && choice.body.contains("Beta Login"),
        "{}",
        choice.body
    );
    let form = browser.get(&flotilla.at("/login?provider=beta")).await;
    assert!(form.url.as_str().starts_with(&b.issuer), "{}", form.url);
    let consent = browser
        .submit(&form.form_action(), &[("login", "dora")], "null")
        .await;
    let landed = browser.submit(&consent.form_action(), &[], "null").await;
    assert_eq!(landed.url.path(), "/signup", "{landed:?}");
    let me: serde_json::Value = browser
        .json(Method::GET, &flotilla.at("/api/v1/me"), None, None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["person"]["email"], "dora@example.com");
}

#[tokio::test]
async fn development_mode_offers_a_labelled_developer_sign_in() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("flotilla_session="))
        .expect("a session cookie");
    assert!(
        !cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let page = browser.get(&flotilla.at("/signup")).await;
    assert!(page.body.contains("Create your account"));
    let created = browser
        .submit(&flotilla.at("/signup"), &[("name", "devco")], &flotilla.url)
        .await;
    assert!(
        created.body.contains("devco.flotilla.localhost"),
        "{}",
        created.body
    );

    // Loopback names of the same port are one origin in development mode; others are not.
    let port = url::Url::parse(&flotilla.url)
        .expect("a URL")
        .port()
        .expect("a port");
    let url = flotilla.at("/api/v1/accounts");
    let same = format!("http://localhost:{port}");
    let r = browser
        .json(
            Method::POST,
            &url,
            Some(json!({"name": "devco2"})),
            Some(&same),
        )
        .await;
    assert_eq!(r.status(), 201);
    for other in ["http://localhost:1", "http://evil.example"] {
        let r = browser
            .json(
                Method::POST,
                &url,
                Some(json!({"name": "devco3"})),
                Some(other),
            )
            .await;
        crate::support::problem::expect_problem(r, 403, "forbidden").await;
    }
}
