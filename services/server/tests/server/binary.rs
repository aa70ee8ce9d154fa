//! The real binary, as an operator runs it: embedded Postgres that survives restarts and is
//! stopped on shutdown, no orphans after a crash, configuration refused with clear messages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use flotilla_core::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use flotilla_core::testing::{ServerProcess, TestDb};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use sqlx::{Connection, PgConnection};

use crate::support::server_binary::{binary, start_ready, BINARY};

/// The embedded cluster's postmaster pid and port, from `postmaster.pid`.
fn postmaster(data_dir: &Path) -> Option<(i32, u16)> {
    let text = std::fs::read_to_string(data_dir.join("postgres/postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    Some((
        lines.first()?.trim().parse().ok()?,
        lines.get(3)?.trim().parse().ok()?,
    ))
}

/// Alive and not a zombie (an orphan started by the test stays its un-reaped child).
fn is_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
    kill(Pid::from_raw(pid), None) != Err(Errno::ESRCH) && !zombie
}

async fn wait_gone(pid: i32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Connects to the embedded cluster as an operator could, with the generated password.
async fn connect_embedded(data_dir: &Path) -> PgConnection {
    let (_, port) = postmaster(data_dir).expect("a running cluster");
    let password =
        std::fs::read_to_string(data_dir.join("postgres.password")).expect("password file");
    let url = format!(
        "postgres://flotilla:{}@127.0.0.1:{port}/postgres",
        password.trim()
    );
    PgConnection::connect(&url)
        .await
        .expect("connect to the embedded cluster")
}

/// Asserts the server logged `needle`, showing the whole log when it did not.
fn assert_logged(server: &ServerProcess, needle: &str) {
    assert!(server.logs().contains(needle), "{}", server.logs());
}

async fn stop(server: &mut ServerProcess) {
    server.signal(Signal::SIGTERM);
    expect_clean_exit(server, Duration::from_secs(5)).await;
}

/// Asserts the server exits 0 within `within` (a signal having been sent).
async fn expect_clean_exit(server: &mut ServerProcess, within: Duration) {
    let status = server.wait_exit(within).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "expected exit 0 within {within:?}, got {status:?}:\n{}",
        server.logs()
    );
}

#[tokio::test]
async fn embedded_postgres_keeps_data_and_stops_with_the_server() {
    let work = tempfile::tempdir().expect("tempdir");
    let data_dir: PathBuf = work.path().join(".flotilla");

    let mut server = start_ready(work.path(), &["--dev"], &[]).await;
    let (pg_pid, _) = postmaster(&data_dir).expect("postmaster.pid");
    let mut conn = connect_embedded(&data_dir).await;
    sqlx::raw_sql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
        .execute(&mut conn)
        .await
        .expect("write");
    conn.close().await.ok();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data_dir.join("postgres.password"))
            .expect("password file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the password file is private");

    stop(&mut server).await;
    assert!(
        !is_alive(pg_pid),
        "embedded postgres stopped with the server"
    );
    assert!(
        postmaster(&data_dir).is_none(),
        "clean shutdown removes postmaster.pid"
    );

    let mut again = start_ready(work.path(), &["--dev"], &[]).await;
    assert_logged(&again, "reusing the existing cluster");
    let mut conn = connect_embedded(&data_dir).await;
    // Dynamic: `kept` is this test's own table, made above in the embedded cluster; the
    // schema the macros check against has no such table.
    let note: String = sqlx::query_scalar("SELECT note FROM kept")
        .fetch_one(&mut conn)
        .await
        .expect("data survived the restart");
    assert_eq!(note, "still here");
    conn.close().await.ok();
    stop(&mut again).await;
}

#[tokio::test]
async fn a_crash_leaves_no_orphan_behind() {
    let work = tempfile::tempdir().expect("tempdir");
    let data_dir = work.path().join(".flotilla");

    // kill -9 of the server: its Postgres follows it down.
    let mut server = start_ready(work.path(), &["--dev"], &[]).await;
    let (pg_pid, _) = postmaster(&data_dir).expect("postmaster.pid");
    server.signal(Signal::SIGKILL);
    server.wait_exit(Duration::from_secs(5)).await;
    assert!(
        wait_gone(pg_pid, Duration::from_secs(15)).await,
        "postgres outlived a kill -9"
    );

    // A Postgres still running on the data directory with nobody holding it (what a crash
    // used to leave) is stopped and replaced.
    let options = EmbeddedOptions::durable(&data_dir);
    let orphan = tokio::task::spawn_blocking(move || {
        EmbeddedPostgres::start(&options).map(EmbeddedPostgres::into_orphan)
    })
    .await
    .expect("join")
    .expect("start an orphan");
    let orphan = orphan as i32;
    assert!(is_alive(orphan));
    let mut server = start_ready(work.path(), &["--dev"], &[]).await;
    assert!(!is_alive(orphan), "the orphan was stopped");
    assert_logged(&server, "stopping an orphan");
    stop(&mut server).await;

    // A stale postmaster.pid naming a dead process is cleared.
    let mut finished = Command::new("true").spawn().expect("spawn");
    let dead = finished.id();
    finished.wait().expect("reap");
    std::fs::write(
        data_dir.join("postgres/postmaster.pid"),
        format!(
            "{dead}\n{}\n0\n5432\n\n127.0.0.1\n0 0\nready   \n",
            data_dir.display()
        ),
    )
    .expect("write a stale pid file");
    let mut server = start_ready(work.path(), &["--dev"], &[]).await;
    assert_logged(&server, "stale pid file");
    stop(&mut server).await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let mut first = start_ready(work.path(), &["--dev"], &[]).await;
    let mut second = ServerProcess::start(binary(), work.path(), &["--dev"], &[]);
    let status = second.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    assert_logged(&second, "in use by another running flotilla-server");
    stop(&mut first).await;
}

#[test]
fn wrong_settings_are_refused_with_their_name() {
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let out = Command::new(BINARY)
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("DATABASE_URL")
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--dev", "--listen", "0.0.0.0:8080"], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("FLOTILLA_DEV") && err.contains("loopback"),
        "{err}"
    );
    let (code, err) = run(&[], &[("FLOTILLA_DNS_PROVIDER", "bind")]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--dns-provider") && err.contains("route53"),
        "{err}"
    );
    let (code, err) = run(&[], &[("FLOTILLA_LISTEN", "everywhere")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("FLOTILLA_LISTEN"), "{err}");
    let (code, err) = run(&[], &[("FLOTILLA_DEV", "perhaps")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--dev"), "{err}");
}

/// `flotilla-server healthcheck [URL]`'s exit status and what it said.
fn healthcheck(args: &[&str], listen: &str) -> (bool, String) {
    let out = Command::new(binary())
        .arg("healthcheck")
        .args(args)
        .env("FLOTILLA_LISTEN", listen)
        .output()
        .expect("run the health check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_health_check_command_says_whether_the_server_is_ready() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let mut server = start_ready(work.path(), &[], &[("DATABASE_URL", &db.url())]).await;
    let listen = server.base_url.trim_start_matches("http://").to_owned();
    // By default /readyz on FLOTILLA_LISTEN's port; or the URL given.
    assert_eq!(healthcheck(&[], &listen), (true, String::new()));
    let readyz = server.url("/readyz");
    assert!(healthcheck(&[&readyz], "127.0.0.1:1").0);
    let (ok, said) = healthcheck(&[&server.url("/nope")], &listen);
    assert!(!ok && said.contains("answered 404"), "{said}");
    stop(&mut server).await;
    let (ok, said) = healthcheck(&[], &listen);
    assert!(!ok && said.contains("cannot connect"), "{said}");
}

#[tokio::test]
async fn runs_on_database_url_with_json_logs() {
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let url = db.url();
    let mut server = start_ready(
        work.path(),
        &[],
        &[("DATABASE_URL", &url), ("FLOTILLA_LOG_FORMAT", "json")],
    )
    .await;
    assert!(
        !work.path().join(".flotilla").exists(),
        "no embedded Postgres with DATABASE_URL"
    );
    stop(&mut server).await;
    let logs = server.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{logs}");
    for line in lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            event["level"].is_string() && event["message"].is_string(),
            "{line}"
        );
    }
    // The harness's own Postgres always has a password; an external DATABASE_URL may not.
    let parsed = reqwest::Url::parse(&url).expect("a URL");
    if let Some(password) = parsed.password() {
        assert!(!logs.contains(password), "the database password was logged");
    }
}

#[tokio::test]
async fn sigterm_drains_a_request_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::new().await;
    let work = tempfile::tempdir().expect("tempdir");
    let mut server = start_ready(work.path(), &[], &[("DATABASE_URL", &db.url())]).await;
    let addr = server.base_url.trim_start_matches("http://").to_owned();

    // A request whose body is still arriving when the signal comes.
    let body = r#"{"kind": "account", "name": "drained"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/name-checks HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{first}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal(Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
        .write_all(rest.as_bytes())
        .await
        .expect("write the rest");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""valid":true"#), "{answer}");

    expect_clean_exit(&mut server, Duration::from_secs(5)).await;
    assert_logged(&server, "draining");
}

// Only as root does Postgres run as another user, one that may not reach the data dir; as
// any other user there is nothing to test. scripts/test.sh (what CI runs, as root) includes
// ignored tests when it runs as root, so this runs for real there.
#[tokio::test]
#[ignore = "needs root: scripts/test.sh runs it when run as root, as CI does"]
async fn as_root_a_data_dir_postgres_cannot_reach_still_works() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root; scripts/test.sh runs it only as root"
    );
    // A checkout under a private directory, like /root.
    let private = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        private.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod 700");
    let work = private.path().join("checkout");
    std::fs::create_dir(&work).expect("mkdir");
    let data_dir = work.join(".flotilla");
    let escaped = data_dir
        .to_string_lossy()
        .replace('%', "%25")
        .replace('/', "%2F");
    let home = Path::new("/var/lib/flotilla-embedded").join(escaped);

    let mut server = start_ready(&work, &["--dev"], &[]).await;
    assert!(
        home.join("postgres/PG_VERSION").exists(),
        "{}",
        server.logs()
    );
    assert_logged(&server, "cannot reach FLOTILLA_DATA_DIR");
    stop(&mut server).await;

    let mut again = start_ready(&work, &["--dev"], &[]).await;
    assert_logged(&again, "reusing the existing cluster");
    stop(&mut again).await;
    std::fs::remove_dir_all(&home).expect("clean up the fallback cluster");
}

#[tokio::test]
async fn sigterm_during_start_up_still_stops_cleanly() {
    let work = tempfile::tempdir().expect("tempdir");
    let data_dir = work.path().join(".flotilla");
    let mut server = ServerProcess::start(binary(), work.path(), &["--dev"], &[]);
    // initdb takes about a second: the signal lands while the embedded Postgres starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal(Signal::SIGTERM);
    expect_clean_exit(&mut server, Duration::from_secs(30)).await;
    assert_logged(&server, "stopping before start-up finished");
    assert!(postmaster(&data_dir).is_none(), "no Postgres left running");
}
