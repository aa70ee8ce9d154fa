//! The `flotilla` CLI as a person runs it: the real binary with a home of its own, run to
//! completion or followed line by line, and `flotilla configure` with a browser allowing it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::oidc::{Browser, Flotilla, Provider};
use super::pki::Ca;

/// The `flotilla` binary (`scripts/test.sh` builds it before the tests).
pub fn binary() -> PathBuf {
    super::workspace::sibling_binary("flotilla", "flotilla-cli")
}

/// The CLI run with `home` as its HOME and nothing of the test's environment that could
/// change what it does.
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("FLOTILLA_")
            || ["KUBECONFIG", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY"].contains(&key.as_str())
        {
            command.env_remove(key);
        }
    }
    command
        .env("HOME", home)
        // Files the CLI writes by default (register-cluster's key) land in the home.
        .current_dir(home)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs the CLI to completion.
pub async fn flotilla(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().await.expect("run flotilla")
}

/// Runs the CLI and expects success; its stdout.
pub async fn ok(home: &Path, args: &[&str]) -> String {
    let out = flotilla(home, args).await;
    assert!(
        out.status.success(),
        "flotilla {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The exit code and stderr of a run expected to fail.
pub async fn fails(home: &Path, args: &[&str]) -> (i32, String) {
    let out = flotilla(home, args).await;
    (
        out.status.code().expect("an exit code"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The CLI running, its stderr read line by line as it comes.
pub struct Running {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts the CLI with stderr piped.
    pub fn start(home: &Path, args: &[&str]) -> Running {
        let mut child = command(home, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start flotilla");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next stderr line containing `needle` (within 20 s).
    pub async fn line_containing(&mut self, needle: &str) -> String {
        let found = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while let Some(line) = self.lines.recv().await {
                self.seen.push(line.clone());
                if line.contains(needle) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!(
                "the CLI never printed {needle:?}:\n{}",
                self.seen.join("\n")
            ),
        }
    }

    /// Waits (at most 30 s) for the CLI to exit; its status and whole stderr.
    pub async fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait())
            .await
            .expect("the CLI finishes")
            .expect("its status");
        while let Some(line) = self.lines.recv().await {
            self.seen.push(line);
        }
        (status, self.seen.join("\n"))
    }
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A Flotilla with the test provider, and a person (`alice@example.com`) logged in there who
/// owns the account `acme`.
pub async fn alice() -> (Flotilla, Provider, Browser) {
    let (flotilla, provider) = Flotilla::with_provider().await;
    let mut browser = Browser::new();
    browser.log_in(&flotilla.url, "alice@example.com").await;
    browser.create_account(&flotilla.url, "acme").await;
    (flotilla, provider, browser)
}

/// Runs `flotilla configure` against `flotilla` with `browser` playing the person's browser
/// (consent, then "allow"); its stderr.
pub async fn configure_in_browser(
    flotilla: &Flotilla,
    browser: &mut Browser,
    home: &Path,
) -> String {
    let args = ["configure", "--server", &flotilla.url];
    configure_allowing(home, &args, browser, &flotilla.url).await
}

/// Runs `flotilla args` (a `configure` that logs in through the browser) against the Flotilla
/// at `base`, with `browser` allowing the CLI on the consent page; its stderr.
pub async fn configure_allowing(
    home: &Path,
    args: &[&str],
    browser: &mut Browser,
    base: &str,
) -> String {
    let mut cli = Running::start(home, args);
    let line = cli.line_containing("/oauth/authorize?").await;
    let consent = browser.get(line.trim()).await;
    assert!(
        consent.body.contains("Allow the Flotilla CLI"),
        "{}",
        consent.body
    );
    let back = browser.decide_at(base, &consent.body, "allow").await;
    assert!(
        back.url.as_str().starts_with("http://127.0.0.1:"),
        "{back:?}"
    );
    assert!(back.body.contains("is logged in"), "{}", back.body);
    let (status, log) = cli.finish().await;
    assert!(status.success(), "{log}");
    log
}

/// `kubectl config view --raw -o json` of the kubeconfig at `path`: what kubectl makes of it.
pub fn kubectl_view(path: &Path) -> serde_json::Value {
    let view = std::process::Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
        .expect("kubectl");
    assert!(
        view.status.success(),
        "{}",
        String::from_utf8_lossy(&view.stderr)
    );
    serde_json::from_slice(&view.stdout).expect("JSON")
}

/// A kubeconfig for a cluster at `server` whose API server CA is `ca`.
pub fn cluster_kubeconfig(server: &str, ca: &Ca) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: eu\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\n\
         users:\n- name: eu-admin\n  user:\n    token: x\ncontexts:\n- name: eu\n  context:\n    cluster: eu\n    user: eu-admin\ncurrent-context: eu\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ca.pem())
    )
}
