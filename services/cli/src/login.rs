//! Logging in at Flotilla's authorization server: the authorization-code flow with PKCE on a
//! loopback redirect (RFC 8252; the browser comes back to a one-shot listener on 127.0.0.1),
//! or the device grant (RFC 8628) where no browser can reach this machine.

use std::io::IsTerminal;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flotilla_client::Client;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::api::CLIENT_ID;
use crate::error::{CliError, Result};
use crate::spinner::Spinner;
use crate::token_endpoint;

/// Largest request head the loopback listener reads.
const MAX_HEAD: usize = 8 * 1024;

/// Logs in through the browser; the token answer.
pub async fn browser(api: &Client, timeout: Duration) -> Result<Value> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::Local(format!("cannot listen on 127.0.0.1 for the browser: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::Local(format!("cannot listen on 127.0.0.1: {e}")))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = random_token();
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let state = random_token();
    let mut url = url::Url::parse(&api.url("/oauth/authorize"))
        .map_err(|e| CliError::Usage(format!("bad server URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scope", "api")
        .append_pair("state", &state);
    eprintln!("Log in and allow the Flotilla CLI in your browser:\n\n  {url}\n");
    if !open_browser(url.as_str()) {
        eprintln!(
            "(No browser could be opened here: open the address above yourself, or use --device.)"
        );
    }
    let spinner = Spinner::start("Waiting for the browser");
    let code = tokio::time::timeout(timeout, wait_for_code(&listener, &state)).await;
    spinner.stop();
    let code = code.map_err(|_| {
        CliError::Auth(format!(
            "no answer from the browser within {} s: run `flotilla configure` again (or with --device)",
            timeout.as_secs()
        ))
    })??;
    let answer = token_endpoint::post(
        api,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await?;
    answer.map_err(|e| CliError::Auth(format!("the log-in failed: {}", e.description)))
}

/// Accepts connections until one brings the authorization code for `state`.
async fn wait_for_code(listener: &TcpListener, state: &str) -> Result<String> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let Some(target) = request_target(&mut stream).await else {
            continue;
        };
        let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != "/callback" {
            respond(&mut stream, "404 Not Found", "Not found.").await;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("state").as_deref() != Some(state) {
            // Not the answer to our request (an old tab, or a forged one): keep waiting.
            respond(
                &mut stream,
                "400 Bad Request",
                "This answer is not for the log-in in progress; go back to your terminal.",
            )
            .await;
            continue;
        }
        if let Some(error) = param("error") {
            respond(
                &mut stream,
                "200 OK",
                "The Flotilla CLI was not allowed. You can close this tab.",
            )
            .await;
            let error: String = error.chars().take(64).collect();
            return Err(CliError::Auth(format!(
                "the log-in was not allowed in the browser ({error})"
            )));
        }
        if let Some(code) = param("code") {
            respond(&mut stream, "200 OK", "The Flotilla CLI is logged in. You can close this tab and go back to your terminal.").await;
            return Ok(code);
        }
        respond(&mut stream, "400 Bad Request", "No authorization code.").await;
    }
}

/// The request target of an HTTP/1 request head (`/callback?code=...`).
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.lines().next()?.split(' ');
    (parts.next()? == "GET").then_some(())?;
    parts.next().map(str::to_owned)
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Flotilla CLI</title>\
         <body style=\"font-family:sans-serif;margin:3em\"><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Logs in with the device grant; the token answer.
pub async fn device(api: &Client) -> Result<Value> {
    let start = api
        .form(
            "/oauth/device_authorization",
            &[("client_id", CLIENT_ID), ("scope", "api")],
        )
        .await?
        .map_err(|e| {
            CliError::Auth(format!(
                "the server refused to start a device log-in: {}",
                e.description
            ))
        })?;
    let text = |name: &str| start[name].as_str().unwrap_or_default().to_owned();
    let (device_code, user_code, uri) = (
        text("device_code"),
        text("user_code"),
        text("verification_uri"),
    );
    if device_code.is_empty() || user_code.is_empty() {
        return Err(CliError::Server(
            "the device authorization answer is incomplete".into(),
        ));
    }
    let mut interval = Duration::from_secs(start["interval"].as_u64().unwrap_or(5).max(1));
    let deadline =
        Instant::now() + Duration::from_secs(start["expires_in"].as_u64().unwrap_or(600));
    eprintln!("On any device, open\n\n  {uri}\n\nand enter the code\n\n  {user_code}\n");
    let spinner = Spinner::start("Waiting for your approval");
    let outcome = loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            break Err(CliError::Auth(
                "the code expired before it was approved: run `flotilla configure --device` again"
                    .into(),
            ));
        }
        let answer = api
            .form(
                "/oauth/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", CLIENT_ID),
                    ("device_code", &device_code),
                ],
            )
            .await;
        match answer {
            Ok(Ok(tokens)) => break Ok(tokens),
            Ok(Err(e)) if e.code == "authorization_pending" => {}
            Ok(Err(e)) if e.code == "slow_down" => interval += Duration::from_secs(5),
            Ok(Err(e)) if e.code == "access_denied" => {
                break Err(CliError::Auth(
                    "the log-in was denied on the device page".into(),
                ))
            }
            Ok(Err(e)) if e.code == "expired_token" => break Err(CliError::Auth(
                "the code expired before it was approved: run `flotilla configure --device` again"
                    .into(),
            )),
            Ok(Err(e)) => {
                break Err(CliError::Auth(format!(
                    "the log-in failed: {}",
                    e.description
                )))
            }
            Err(e) => break Err(e.into()),
        }
    };
    spinner.stop();
    outcome
}

/// Opens `url` in the person's browser: `$BROWSER` if set, else the desktop's opener. False
/// when nothing could be started.
fn open_browser(url: &str) -> bool {
    let commands: Vec<String> = match std::env::var("BROWSER") {
        Ok(list) if !list.trim().is_empty() => list.split(':').map(str::to_owned).collect(),
        _ if cfg!(target_os = "macos") => vec!["open".into()],
        _ if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some() =>
        {
            vec!["xdg-open".into()]
        }
        _ => Vec::new(),
    };
    commands.iter().any(|command| {
        std::process::Command::new(command)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

/// 32 random bytes, base64url: a PKCE verifier (43 characters) or a state.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether stderr is a terminal (spinners and prompts only there).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}
