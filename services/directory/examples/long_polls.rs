//! Holds COUNT long-polls of one account's bundle map, then makes one change and measures
//! how long the server takes to answer every one of them, and how much memory it holds them
//! with (`bench/directory.sh`).
//!
//!   long_polls MAP_URL TOKEN COUNT SERVER_PID CHANGE_URL CHANGE_TOKEN CHANGE_BODY_FILE
//!
//! Prints one JSON line: how many were held and answered, the server's resident memory
//! before and while holding them (and its peak), and the time from sending the change to the last
//! response's headers and to its last byte.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

/// How long each long-poll asks to wait: far beyond the measurement.
const WAIT_SECS: u64 = 120;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [map_url, token, count, pid, change_url, change_token, change_body] = args.as_slice()
    else {
        bail!("usage: long_polls MAP_URL TOKEN COUNT SERVER_PID CHANGE_URL CHANGE_TOKEN CHANGE_BODY_FILE");
    };
    let count: usize = count.parse()?;
    let base = map_url
        .split("/api/")
        .next()
        .context("a map URL under /api/")?
        .to_owned();
    // One connection per long-poll, as separate agents would have.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(count)
        .timeout(Duration::from_secs(WAIT_SECS + 30))
        .build()?;
    let first = http.get(map_url).bearer_auth(token).send().await?;
    if first.status() != 200 {
        bail!("reading the map: {}", first.status());
    }
    let etag = first
        .headers()
        .get("etag")
        .context("an ETag")?
        .to_str()?
        .to_owned();

    let rss_before = memory_mib(pid, "VmRSS")?;
    let url = format!("{map_url}?wait={WAIT_SECS}");
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let (http, url, token, etag) = (http.clone(), url.clone(), token.clone(), etag.clone());
        tasks.push(tokio::spawn(async move {
            let response = http
                .get(&url)
                .bearer_auth(&token)
                .header("if-none-match", &etag)
                .send()
                .await?;
            let headers_at = Instant::now();
            let status = response.status().as_u16();
            let body = response.bytes().await?;
            anyhow::Ok((status, headers_at, Instant::now(), body.len()))
        }));
    }

    // Held: the server's own gauge says so.
    let held_by = Instant::now() + Duration::from_secs(120);
    let held = loop {
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let held = metrics
            .lines()
            .find_map(|l| l.strip_prefix("flotilla_directory_long_polls "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as usize;
        if held >= count {
            break held;
        }
        if Instant::now() > held_by {
            bail!("only {held} of {count} long-polls are held after 120 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_held = memory_mib(pid, "VmRSS")?;

    let body = std::fs::read(change_body)?;
    let changed_at = Instant::now();
    let change = http
        .put(change_url)
        .bearer_auth(change_token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    if !change.status().is_success() {
        bail!("the change: {} {}", change.status(), change.text().await?);
    }
    let mut answered = 0;
    let mut last_headers = Duration::ZERO;
    let mut last_body = Duration::ZERO;
    let mut bytes = 0;
    for task in tasks {
        let (status, headers_at, done_at, len) = task.await??;
        if status == 200 {
            answered += 1;
        }
        last_headers = last_headers.max(headers_at - changed_at);
        last_body = last_body.max(done_at - changed_at);
        bytes = len;
    }
    let peak = memory_mib(pid, "VmHWM")?;
    println!(
        "{}",
        json!({
            "held": held,
            "answered_200": answered,
            "rss_mib_before": rss_before,
            "rss_mib_held": rss_held,
            "rss_mib_peak": peak,
            "map_bytes": bytes,
            "last_headers_ms": last_headers.as_secs_f64() * 1000.0,
            "last_body_ms": last_body.as_secs_f64() * 1000.0,
        })
    );
    Ok(())
}

/// A memory figure of process `pid` from /proc, in MiB.
fn memory_mib(pid: &str, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} of process {pid}"))?;
    Ok(kib / 1024.0)
}
