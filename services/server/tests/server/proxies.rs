//! Behind a real reverse proxy (Debian's nginx, configured as `deploy/`'s Ingress forwards:
//! `X-Forwarded-For` with the client appended): each client gets its own rate-limit budget and
//! its own address in the audit log, and a client that talks to Flotilla directly cannot
//! forge one. Clients are told apart by the loopback address they connect from.

use std::net::IpAddr;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::nginx::Nginx;
use crate::support::server_binary::Flotilla;

/// A client connecting from `address` (a loopback address of its own).
fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().expect("an address");
    reqwest::Client::builder()
        .local_address(address)
        .build()
        .expect("a client")
}

/// Starts a device authorization at `base` (rate-limited: 5, then 10 a minute, per client),
/// with an optional forged `X-Forwarded-For`; the status.
async fn device_start(client: &reqwest::Client, base: &str, forged: Option<&str>) -> StatusCode {
    let mut request = client
        .post(format!("{base}/oauth/device_authorization"))
        .form(&[("client_id", "flotilla-cli")]);
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    request.send().await.expect("an answer").status()
}

/// Creates a registration token of `acme` described as `name` at `base`, as the owner, with
/// an optional forged `X-Forwarded-For`.
async fn create_token(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    name: &str,
    forged: Option<&str>,
) {
    let mut request = client
        .post(format!("{base}/api/v1/accounts/acme/registration-tokens"))
        .bearer_auth(admin)
        .json(&json!({"description": name}));
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    let r = request.send().await.expect("an answer");
    assert_eq!(r.status(), 201, "create {name}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_address_and_nobody_forges_one() {
    let flotilla = Flotilla::start(&["--trusted-proxies", "127.0.0.1"]).await;
    let nginx = Nginx::start(&flotilla.url).await;
    let (ada, bob, eve) = (
        client_from("127.0.0.2"),
        client_from("127.0.0.3"),
        client_from("127.0.0.4"),
    );

    // Through nginx, ada spends her budget; bob still has his.
    for i in 0..5 {
        assert_eq!(device_start(&ada, &nginx.url, None).await, 200, "ada's {i}");
    }
    assert_eq!(device_start(&ada, &nginx.url, None).await, 429);
    // What ada writes in the header herself is to the left of what nginx appends.
    assert_eq!(
        device_start(&ada, &nginx.url, Some("198.51.100.20")).await,
        429,
        "a forged hop through the proxy is not believed"
    );
    assert_eq!(device_start(&bob, &nginx.url, None).await, 200);

    // Directly, eve's header is not believed: all her requests share her own budget.
    for i in 0..5 {
        let forged = format!("203.0.113.{i}");
        let status = device_start(&eve, &flotilla.url, Some(&forged)).await;
        assert_eq!(status, 200, "eve's {i}");
    }
    assert_eq!(
        device_start(&eve, &flotilla.url, Some("203.0.113.99")).await,
        429
    );

    // The audit log records each client's own address.
    create_token(&ada, &nginx.url, &flotilla.admin, "via-proxy-ada", None).await;
    let forged = Some("198.51.100.20");
    create_token(&bob, &nginx.url, &flotilla.admin, "via-proxy-bob", forged).await;
    create_token(&eve, &flotilla.url, &flotilla.admin, "direct-eve", forged).await;
    let audit = client_from("127.0.0.1")
        .get(format!("{}/api/v1/accounts/acme/audit", flotilla.url))
        .bearer_auth(&flotilla.admin)
        .send()
        .await
        .expect("the audit log")
        .json::<Value>()
        .await
        .expect("JSON");
    let source = |name: &str| {
        audit["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["action"] == "registration-token.created" && e["target"] == name)
            .map(|e| e["source"].clone())
            .unwrap_or_else(|| panic!("no entry for {name}: {audit:#}"))
    };
    assert_eq!(source("via-proxy-ada"), "127.0.0.2");
    assert_eq!(source("via-proxy-bob"), "127.0.0.3");
    assert_eq!(source("direct-eve"), "127.0.0.4");
}
