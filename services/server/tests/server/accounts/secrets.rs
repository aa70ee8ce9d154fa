//! No token, code, secret or cookie value ever appears in the logs: the real binary runs a
//! full log-in, sign-up, CLI grant, device grant, refresh, API-token and revocation flow at
//! debug level, and its whole output is searched for every secret handled.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flotilla_core::db::embedded::free_port;
use flotilla_core::testing::{ServerProcess, TEST_WRAPPING_SECRET};
use serde_json::Value;
use url::Url;

use crate::support::oidc::{callback_url, Browser, Provider, CLIENT_ID, CLIENT_SECRET};

async fn form(url: &str, fields: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .post(url)
        .form(fields)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn no_secret_of_a_whole_flow_reaches_the_logs() {
    let port = free_port().expect("a free port");
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&format!("{base}/auth/callback")).await;
    let work = tempfile::tempdir().expect("a temp dir");
    let listen = format!("127.0.0.1:{port}");
    let mut server = ServerProcess::start(
        crate::support::server_binary::binary(),
        work.path(),
        &[],
        &[
            ("FLOTILLA_LISTEN", listen.as_str()),
            ("FLOTILLA_PUBLIC_URL", base.as_str()),
            ("FLOTILLA_OIDC_ISSUER", provider.issuer.as_str()),
            ("FLOTILLA_OIDC_CLIENT_ID", CLIENT_ID),
            ("FLOTILLA_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("RUST_LOG", "debug"),
        ],
    );
    server.wait_ready(Duration::from_secs(60)).await;
    let mut secrets: Vec<String> = vec![CLIENT_SECRET.into(), TEST_WRAPPING_SECRET.into()];

    // Browser log-in: the state and the provider's code travel in the callback URL.
    let mut browser = Browser::new();
    let callback = callback_url(&mut browser, &base, "sam@example.com").await;
    for (key, value) in Url::parse(&callback).expect("a URL").query_pairs() {
        if key == "code" || key == "state" {
            secrets.push(value.into_owned());
        }
    }
    let landed = browser.get(&callback).await;
    assert_eq!(landed.url.path(), "/signup", "{landed:?}");
    secrets.push(
        browser
            .cookie(&base, "__Host-flotilla_session")
            .expect("a session"),
    );
    browser.create_account(&base, "sam").await;

    // An API token.
    let created = browser.create_token(&base, "sam", "admin", 1).await;
    let api_token = created["token"].as_str().expect("a token").to_owned();
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&api_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 200);
    secrets.push(api_token);

    // The CLI's code grant: the code, the verifier, the tokens.
    let verifier = "verifier-for-the-log-test-0123456789-abcdefghijk";
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let authorize = format!(
        "{base}/oauth/authorize?response_type=code&client_id=flotilla-cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=st&code_challenge={challenge}&code_challenge_method=S256"
    );
    browser.get(&authorize).await;
    let back = browser
        .submit(
            &format!("{base}/oauth/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", "flotilla-cli"),
                ("redirect_uri", "http://127.0.0.1:9/cb"),
                ("state", "st"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("decision", "allow"),
            ],
            &base,
        )
        .await;
    let code = back
        .url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    let tokens = form(
        &format!("{base}/oauth/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "flotilla-cli"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    let refresh = |pair: &Value| {
        let presented = pair["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        let url = format!("{base}/oauth/token");
        async move {
            form(
                &url,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "flotilla-cli"),
                    ("refresh_token", &presented),
                ],
            )
            .await
        }
    };
    let refreshed = refresh(&tokens).await;
    let third = refresh(&refreshed).await;
    // A reuse after its successor was used, which is logged as a warning: with no token in it.
    let reused = refresh(&tokens).await;
    assert_eq!(reused["error"], "invalid_grant");
    secrets.extend([code, verifier.to_owned()]);
    for t in [&tokens, &refreshed, &third] {
        secrets.push(
            t["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned(),
        );
        secrets.push(
            t["refresh_token"]
                .as_str()
                .expect("a refresh token")
                .to_owned(),
        );
    }

    // The device grant: its codes.
    let device = form(
        &format!("{base}/oauth/device_authorization"),
        &[("client_id", "flotilla-cli")],
    )
    .await;
    let user_code = device["user_code"]
        .as_str()
        .expect("a user code")
        .to_owned();
    let page = browser
        .submit(
            &format!("{base}/device"),
            &[("user_code", &user_code), ("decision", "approve")],
            &base,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    secrets.push(
        device["device_code"]
            .as_str()
            .expect("a device code")
            .to_owned(),
    );
    secrets.push(user_code.replace('-', ""));
    secrets.push(user_code);

    // Log-out, then read everything the server wrote.
    browser.submit(&format!("{base}/logout"), &[], &base).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = server.logs();
    assert!(
        logs.contains("logged in") && logs.contains("API token created"),
        "the flow was logged:\n{logs}"
    );
    for secret in &secrets {
        assert!(secret.len() >= 8, "a real secret: {secret}");
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs: {secret}\n{logs}"
        );
    }
}
