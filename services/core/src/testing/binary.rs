//! Running the real `flotilla-server` binary as a child process, as an operator would.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// A running `flotilla-server`, its output captured in a file; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `binary` listening on a free loopback port, in `workdir`, with `args` and `envs`.
    /// Settings inherited from the test's environment are removed first, so tests are
    /// repeatable on any machine.
    pub fn start(binary: &Path, workdir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        // A test may choose the address (FLOTILLA_LISTEN) when peers must know it first.
        let chosen = envs
            .iter()
            .find(|(k, _)| *k == "FLOTILLA_LISTEN")
            .and_then(|(_, v)| v.rsplit(':').next()?.parse::<u16>().ok());
        let port = chosen.unwrap_or_else(|| crate::db::embedded::free_port().expect("a free port"));
        let log_dir = tempfile::tempdir().expect("a temp dir");
        let log_path = log_dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("create the log file");
        let mut command = Command::new(binary);
        command.current_dir(workdir);
        for (key, _) in std::env::vars() {
            if key.starts_with("FLOTILLA_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("FLOTILLA_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET",
                super::TEST_WRAPPING_SECRET,
            )
            .envs(envs.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .kill_on_drop(true);
        let child = command.spawn().expect("start flotilla-server");
        Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
            _log_dir: log_dir,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The process id, while the process has not been reaped.
    pub fn pid(&self) -> i32 {
        // Never 0: kill(0, ..) would signal the whole process group, the test run included.
        self.child
            .id()
            .map(|id| id as i32)
            .expect("flotilla-server has already exited and been reaped")
    }

    /// Polls `/readyz` until it answers 200; returns how long that took from now.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Duration {
        let start = Instant::now();
        let client = reqwest::Client::new();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "flotilla-server exited ({status}) before it was ready:\n{}",
                    self.logs()
                );
            }
            if let Ok(r) = client.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return start.elapsed();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "flotilla-server not ready within {timeout:?}:\n{}",
            self.logs()
        );
    }

    /// Sends `signal` to the server.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid()), signal).expect("signal flotilla-server");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Everything the server has written to stdout and stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}
