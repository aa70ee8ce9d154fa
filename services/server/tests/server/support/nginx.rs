//! nginx as a reverse proxy in front of Flotilla, configured as `deploy/`'s Ingress forwards
//! (`X-Forwarded-For` with the client appended).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// nginx in the foreground, proxying to `upstream`; killed when dropped.
pub struct Nginx {
    _child: Child,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Nginx {
    /// Starts it (and waits until it answers).
    pub async fn start(upstream: &str) -> Nginx {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = flotilla_core::db::embedded::free_port().expect("a free port");
        let path = dir.path().display();
        let conf = format!(
            "daemon off; master_process off; worker_processes 1;
             pid {path}/nginx.pid; error_log {path}/error.log;
             events {{ worker_connections 64; }}
             http {{
               access_log off;
               client_body_temp_path {path}/body; proxy_temp_path {path}/proxy;
               fastcgi_temp_path {path}/fastcgi; uwsgi_temp_path {path}/uwsgi;
               scgi_temp_path {path}/scgi;
               server {{
                 listen 127.0.0.1:{port};
                 location / {{
                   proxy_pass {upstream};
                   proxy_http_version 1.1;
                   proxy_set_header Host $host;
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                 }}
               }}
             }}"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, conf).expect("write nginx.conf");
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nginx");
        let child = Command::new(nginx)
            .arg("-e")
            .arg(dir.path().join("stderr.log"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nginx (scripts/install-test-deps.sh installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        for _ in 0..100 {
            if probe.get(format!("{url}/healthz")).send().await.is_ok() {
                return Nginx {
                    _child: child,
                    _dir: dir,
                    url,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start: {log}");
    }
}
