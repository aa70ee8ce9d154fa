//! Prometheus: the real server (Debian's package) scraping a Flotilla, and reading a
//! `/metrics` text without one.

use std::process::Stdio;

use serde_json::Value;
use tokio::process::{Child, Command};

/// The value of `series` (a metric name with its labels) in the `/metrics` text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Prometheus in the foreground, scraping `target` every second; killed when dropped.
pub struct Prometheus {
    _child: Child,
    _dir: tempfile::TempDir,
    url: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts it with `deploy/monitoring/rules.yaml` loaded.
    pub async fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = flotilla_core::db::embedded::free_port().expect("a free port");
        let rules = super::workspace::repo().join("deploy/monitoring/rules.yaml");
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: [{rules:?}]\n\
             scrape_configs:\n\
             - job_name: flotilla\n  static_configs: [{{targets: [{target:?}]}}]\n",
            rules = rules.display().to_string(),
        );
        let file = dir.path().join("prometheus.yml");
        std::fs::write(&file, config).expect("write prometheus.yml");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start prometheus (scripts/install-test-deps.sh installs it)");
        Prometheus {
            _child: child,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    /// `GET /api/v1/<path>` with `query`; the answer's `data`, or the error it reports.
    pub async fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, String> {
        let answer = self
            .http
            .get(format!("{}/api/v1/{path}", self.url))
            .query(query)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = answer.json().await.map_err(|e| e.to_string())?;
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!("{}: {}", body["errorType"], body["error"]))
        }
    }
}
