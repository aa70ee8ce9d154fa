//! Flotilla's own token service: the authorization-code grant with PKCE on a loopback
//! redirect, refresh rotation and reuse detection, revocation, the device grant, and tokens
//! that must be refused.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::support::oauth::{
    authorization_code, challenge, cli_tokens, exchange, refresh, token, REDIRECT, VERIFIER,
};
use crate::support::oidc::{encode, Flotilla};

/// `GET /api/v1/me` with a bearer token: its status.
async fn me_status(flotilla: &Flotilla, access_token: &str) -> u16 {
    reqwest::Client::new()
        .get(flotilla.at("/api/v1/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string: {v}"))
}

#[tokio::test]
async fn the_cli_gets_tokens_with_pkce_and_they_work_on_the_api() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let code = authorization_code(&flotilla.url, &mut browser).await;
    let (status, tokens) = exchange(&flotilla.url, &code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    let access = s(&tokens["access_token"]);

    // The access token is an ES256 JWT from this issuer, for the API, verifiable with the JWKS.
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').next().expect("a header"))
            .expect("b64"),
    )
    .expect("JSON");
    assert_eq!(header["alg"], "ES256");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("claims"))
            .expect("b64"),
    )
    .expect("JSON");
    assert_eq!(claims["iss"], flotilla.url);
    assert_eq!(claims["aud"], format!("{}/api", flotilla.url));
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        600
    );
    let discovery: Value = reqwest::get(flotilla.at("/.well-known/openid-configuration"))
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(discovery["issuer"], flotilla.url);
    assert_eq!(
        discovery["device_authorization_endpoint"],
        flotilla.at("/oauth/device_authorization")
    );
    let jwks: Value = reqwest::get(s(&discovery["jwks_uri"]))
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == header["kid"] && k["crv"] == "P-256" && k.get("d").is_none()),
        "{jwks}"
    );

    let me: Value = reqwest::Client::new()
        .get(flotilla.at("/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["person"]["email"], "developer@localhost");

    // The code is single use: a replay is refused and revokes what it issued.
    let (status, error) = exchange(&flotilla.url, &code, VERIFIER).await;
    assert_eq!(
        (status, s(&error["error"])),
        (400, "invalid_grant"),
        "{error}"
    );
    assert_eq!(me_status(&flotilla, access).await, 401);
    let (status, _) = refresh(&flotilla.url, s(&tokens["refresh_token"])).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_pkce_mismatch_or_a_wrong_redirect_is_refused() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let code = authorization_code(&flotilla.url, &mut browser).await;
    let (status, error) = exchange(
        &flotilla.url,
        &code,
        "another-verifier-of-the-cli-0123456789-abcdefgh",
    )
    .await;
    assert_eq!((status, s(&error["error"])), (400, "invalid_grant"));
    assert!(s(&error["error_description"]).contains("PKCE"), "{error}");

    // Authorization requests that cannot be trusted never redirect anywhere.
    for bad in [
        "redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb",
    ] {
        let url = flotilla.at(&format!("/oauth/authorize?response_type=code&client_id=flotilla-cli&{bad}&code_challenge={}&code_challenge_method=S256", challenge(VERIFIER)));
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
        assert!(page.body.contains("loopback"), "{}", page.body);
    }
    // Without PKCE the client is told so at its redirect.
    let url = flotilla.at(&format!(
        "/oauth/authorize?response_type=code&client_id=flotilla-cli&redirect_uri={}&state=s",
        encode(REDIRECT)
    ));
    let page = browser.get(&url).await;
    let pairs: Vec<(String, String)> = page.url.query_pairs().into_owned().collect();
    assert!(
        pairs.contains(&("error".into(), "invalid_request".into())),
        "{pairs:?}"
    );
    // Unknown grant types and clients get RFC 6749 errors.
    let (status, error) = token(
        &flotilla.url,
        &[("grant_type", "password"), ("client_id", "flotilla-cli")],
    )
    .await;
    assert_eq!(
        (status, s(&error["error"])),
        (400, "unsupported_grant_type")
    );
    let (status, error) = token(
        &flotilla.url,
        &[("grant_type", "refresh_token"), ("client_id", "someone")],
    )
    .await;
    assert_eq!((status, s(&error["error"])), (401, "invalid_client"));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let first = cli_tokens(&flotilla.url, &mut browser).await;
    let r1 = s(&first["refresh_token"]).to_owned();

    // Grace: the client lost the answer to its refresh and tries again at once: it works.
    let (status, lost) = refresh(&flotilla.url, &r1).await;
    assert_eq!(status, 200, "{lost}");
    let (status, second) = refresh(&flotilla.url, &r1).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], lost["refresh_token"]);
    // ... and the pair it never received is dead (presenting it counts as reuse).
    let (status, _) = refresh(&flotilla.url, s(&lost["refresh_token"])).await;
    assert_eq!(status, 400, "the unseen successor was retired");

    // A new log-in of the CLI: a family of its own.
    let first = cli_tokens(&flotilla.url, &mut browser).await;
    let r1 = s(&first["refresh_token"]).to_owned();
    let (_, second) = refresh(&flotilla.url, &r1).await;
    let r2 = s(&second["refresh_token"]).to_owned();
    let (status, third) = refresh(&flotilla.url, &r2).await;
    assert_eq!(status, 200);
    let access = s(&third["access_token"]).to_owned();
    assert_eq!(me_status(&flotilla, &access).await, 200);
    // r1 again, after its successor was used: theft. The whole family goes.
    let (status, error) = refresh(&flotilla.url, &r1).await;
    assert_eq!((status, s(&error["error"])), (400, "invalid_grant"));
    assert!(
        s(&error["error_description"]).contains("revoked"),
        "{error}"
    );
    let (status, _) = refresh(&flotilla.url, s(&third["refresh_token"])).await;
    assert_eq!(status, 400, "the newest refresh token is revoked too");
    assert_eq!(
        me_status(&flotilla, &access).await,
        401,
        "and so are its access tokens"
    );
}

#[tokio::test]
async fn revoked_expired_and_foreign_tokens_are_refused() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let tokens = cli_tokens(&flotilla.url, &mut browser).await;
    let access = s(&tokens["access_token"]).to_owned();
    assert_eq!(me_status(&flotilla, &access).await, 200);
    // A client names itself (RFC 7009 §2.1): without client_id nothing is revoked.
    let anonymous = reqwest::Client::new()
        .post(flotilla.at("/oauth/revoke"))
        .form(&[("token", s(&tokens["refresh_token"]))])
        .send()
        .await
        .expect("answered");
    assert_eq!(anonymous.status(), 400);
    assert_eq!(me_status(&flotilla, &access).await, 200);
    let revoked = reqwest::Client::new()
        .post(flotilla.at("/oauth/revoke"))
        .form(&[
            ("token", s(&tokens["refresh_token"])),
            ("client_id", "flotilla-cli"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        me_status(&flotilla, &access).await,
        401,
        "revoking the refresh token ends its access tokens"
    );

    // Tokens signed with Flotilla's own key but expired, or for another audience.
    // Its own state, beside the served one's; its metrics go to a registry of its own.
    let accounts = flotilla_accounts::Accounts::new(
        &flotilla.ctx.config,
        &flotilla.settings.accounts,
        &flotilla_core::http::metrics::Metrics::new(),
    )
    .expect("state");
    let live = cli_tokens(&flotilla.url, &mut browser).await;
    let live_access = s(&live["access_token"]);
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(live_access.split('.').nth(1).expect("claims"))
            .expect("b64"),
    )
    .expect("JSON");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let mut expired = claims.clone();
    expired["iat"] = (now - 1200).into();
    expired["exp"] = (now - 600).into();
    let mut foreign = claims.clone();
    foreign["aud"] = "https://elsewhere.example/api".into();
    for forged in [expired, foreign] {
        let token = accounts
            .signer
            .sign(&flotilla.ctx, &forged)
            .await
            .expect("signed");
        assert_eq!(me_status(&flotilla, &token).await, 401, "{forged}");
    }
    // An unsigned token, and garbage.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    for token in [unsigned.as_str(), "garbage", "flt_nothing"] {
        assert_eq!(me_status(&flotilla, token).await, 401, "{token}");
    }
    assert_eq!(me_status(&flotilla, live_access).await, 200);
}

#[tokio::test]
async fn the_device_flow_works_end_to_end() {
    let flotilla = Flotilla::dev().await;
    let started: Value = reqwest::Client::new()
        .post(flotilla.at("/oauth/device_authorization"))
        .form(&[("client_id", "flotilla-cli")])
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let device_code = s(&started["device_code"]).to_owned();
    let user_code = s(&started["user_code"]).to_owned();
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert_eq!(started["verification_uri"], flotilla.at("/device"));
    assert_eq!(started["interval"], 5);
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "flotilla-cli"),
        ("device_code", device_code.as_str()),
    ];
    let (status, error) = token(&flotilla.url, &poll).await;
    assert_eq!(
        (status, s(&error["error"])),
        (400, "authorization_pending"),
        "{error}"
    );
    let (status, error) = token(&flotilla.url, &poll).await;
    assert_eq!(
        (status, s(&error["error"])),
        (400, "slow_down"),
        "polling at once is too fast"
    );

    // The person, logged in, opens the complete URI and approves.
    let mut browser = flotilla.developer().await;
    let page = browser.get(s(&started["verification_uri_complete"])).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&user_code),
        "the code is prefilled: {}",
        page.body
    );
    let wrong = browser
        .submit(
            &flotilla.at("/device"),
            &[("user_code", "BBBB-BBBB"), ("decision", "approve")],
            &flotilla.url,
        )
        .await;
    assert_eq!(wrong.status, 400);
    let done = browser
        .submit(
            &flotilla.at("/device"),
            &[
                ("user_code", &user_code.to_lowercase()),
                ("decision", "approve"),
            ],
            &flotilla.url,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("return to your terminal"));

    // Time passes (the interval, now 10 s after slow_down), then the device polls again.
    sqlx::query!("UPDATE device_codes SET last_polled_at = now() - interval '1 minute'")
        .execute(&flotilla.ctx.db)
        .await
        .expect("age the last poll");
    let (status, tokens) = token(&flotilla.url, &poll).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(me_status(&flotilla, s(&tokens["access_token"])).await, 200);
    sqlx::query!("UPDATE device_codes SET last_polled_at = now() - interval '1 minute'")
        .execute(&flotilla.ctx.db)
        .await
        .expect("age the last poll");
    let (status, error) = token(&flotilla.url, &poll).await;
    assert_eq!(
        (status, s(&error["error"])),
        (400, "invalid_grant"),
        "a device code is used once"
    );
}

#[tokio::test]
async fn guessing_user_codes_is_rate_limited() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let page = browser
            .submit(
                &flotilla.at("/device"),
                &[("user_code", "BCDF-GHJK"), ("decision", "approve")],
                &flotilla.url,
            )
            .await;
        statuses.push(page.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[400; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn a_rotated_key_stays_published_until_its_tokens_expire() {
    let flotilla = Flotilla::dev().await;
    let mut browser = flotilla.developer().await;
    let before = cli_tokens(&flotilla.url, &mut browser).await;
    let old = s(&before["access_token"]).to_owned();
    let kid_of = |token: &str| -> Value {
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("a header"))
            .expect("b64");
        serde_json::from_slice::<Value>(&header).expect("JSON")["kid"].clone()
    };

    // The key's rotation period has passed.
    sqlx::query!("UPDATE signing_keys SET created_at = now() - interval '31 days'")
        .execute(&flotilla.ctx.db)
        .await
        .expect("age the key");
    // Its own state, beside the served one's; its metrics go to a registry of its own.
    let accounts = flotilla_accounts::Accounts::new(
        &flotilla.ctx.config,
        &flotilla.settings.accounts,
        &flotilla_core::http::metrics::Metrics::new(),
    )
    .expect("state");
    assert!(accounts
        .signer
        .rotate_if_due(&flotilla.ctx)
        .await
        .expect("rotated"));
    assert!(
        !accounts
            .signer
            .rotate_if_due(&flotilla.ctx)
            .await
            .expect("checked"),
        "once only"
    );

    let jwks: Value = reqwest::get(flotilla.at("/.well-known/jwks.json"))
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(kids.len(), 2, "the retired key is still published: {jwks}");
    assert!(kids.contains(&&kid_of(&old)));
    assert_eq!(
        me_status(&flotilla, &old).await,
        200,
        "tokens of the retired key still work"
    );

    let code = authorization_code(&flotilla.url, &mut browser).await;
    let fresh = accounts
        .signer
        .sign(&flotilla.ctx, &serde_json::json!({}))
        .await
        .expect("signed");
    assert_ne!(kid_of(&fresh), kid_of(&old), "new tokens use the new key");
    let (status, after) = exchange(&flotilla.url, &code, VERIFIER).await;
    assert_eq!(status, 200);
    assert_eq!(me_status(&flotilla, s(&after["access_token"])).await, 200);

    // Once its tokens have all expired, the retired key is no longer published.
    sqlx::query!("UPDATE signing_keys SET publish_until = now() - interval '1 second' WHERE retired_at IS NOT NULL")
        .execute(&flotilla.ctx.db)
        .await
        .expect("let the publication end");
    let jwks: Value = reqwest::get(flotilla.at("/.well-known/jwks.json"))
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 1, "{jwks}");
}
