//! The throwaway Postgres of a test binary and the per-test databases cloned from a template.

use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::Signal;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use crate::db::{migrate, MIGRATOR};

/// Name prefix of throwaway clusters' directories under the temp dir.
const DIR_PREFIX: &str = "flotilla-test-pg-";

/// The Postgres server shared by every test of this binary, with a migrated template.
pub struct TestPostgres {
    admin: PgConnectOptions,
    /// A server of someone else's (`DATABASE_URL`): test databases are dropped after use.
    external: bool,
    admin_url: String,
    template: String,
    // Kept for the life of the process; Postgres gets SIGQUIT when the process exits.
    _embedded: Option<EmbeddedPostgres>,
}

static SHARED: OnceLock<TestPostgres> = OnceLock::new();

impl TestPostgres {
    /// The shared server, started (and its template migrated) on first use.
    pub fn shared() -> &'static TestPostgres {
        SHARED.get_or_init(|| {
            // Tests run on many runtimes; do the async set-up on a runtime of its own.
            std::thread::spawn(Self::start)
                .join()
                .expect("test Postgres set-up panicked")
        })
    }

    fn start() -> Self {
        let (admin_url, embedded) = match std::env::var("DATABASE_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                remove_stale_clusters();
                let dir = tempfile::Builder::new()
                    .prefix(DIR_PREFIX)
                    .tempdir()
                    .expect("create a temp dir")
                    .keep();
                let embedded = EmbeddedPostgres::start(&EmbeddedOptions {
                    data_dir: dir,
                    durable: false,
                    max_connections: 500,
                    port: None,
                    on_parent_death: Signal::SIGQUIT,
                })
                .unwrap_or_else(|e| panic!("start the test Postgres: {e}"));
                (embedded.database_url("postgres"), Some(embedded))
            }
        };
        let admin = PgConnectOptions::from_str(&admin_url).expect("DATABASE_URL is a Postgres URL");
        let template = format!("flotilla_template_{}", random_suffix());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let mut conn = admin.connect().await.expect("connect to the test Postgres");
            // Dynamic: a database name is an identifier, which no statement can bind.
            sqlx::query(&format!("CREATE DATABASE {template}"))
                .execute(&mut conn)
                .await
                .expect("create the template database");
            conn.close().await.ok();
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(admin.clone().database(&template))
                .await
                .expect("connect to the template");
            migrate(&pool, &MIGRATOR)
                .await
                .expect("migrate the template");
            // A template must have no connections when it is cloned.
            pool.close().await;
        });
        Self {
            external: embedded.is_none(),
            admin,
            admin_url,
            template,
            _embedded: embedded,
        }
    }
}

/// A fresh, migrated database of its own for one test.
pub struct TestDb {
    /// A pool on it.
    pub pool: PgPool,
    /// Its name.
    pub name: String,
    options: PgConnectOptions,
}

impl TestDb {
    /// Clones the migrated template into a new database (fast: no migrations run).
    pub async fn new() -> Self {
        Self::create(true).await
    }

    /// A new database with no migrations applied, for tests of the migrator itself.
    pub async fn empty() -> Self {
        Self::create(false).await
    }

    async fn create(migrated: bool) -> Self {
        let server = TestPostgres::shared();
        let name = format!("flotilla_test_{}", random_suffix());
        let mut conn = server
            .admin
            .connect()
            .await
            .expect("connect to the test Postgres");
        let template = if migrated {
            server.template.as_str()
        } else {
            "template0"
        };
        // Dynamic: database names are identifiers, which no statement can bind.
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        conn.close().await.ok();
        let options = server.admin.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options.clone())
            .await
            .expect("connect to the test database");
        Self {
            pool,
            name,
            options,
        }
    }

    /// A `postgres://` URL of this database, for a server started as a child process.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&TestPostgres::shared().admin_url).expect("a URL");
        url.set_path(&self.name);
        url.into()
    }

    /// Connection options for this database.
    pub fn options(&self) -> PgConnectOptions {
        self.options.clone()
    }
}

impl Drop for TestDb {
    /// On an external server, drops the database (a throwaway cluster is discarded whole).
    fn drop(&mut self) {
        let server = TestPostgres::shared();
        if !server.external {
            return;
        }
        let (admin, name) = (server.admin.clone(), self.name.clone());
        // Drop cannot await; a short-lived runtime of its own does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = admin.connect().await.map_err(std::io::Error::other)?;
                // Dynamic: a database name is an identifier, which no statement can bind.
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(std::io::Error::other)?;
                conn.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
    }
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Throwaway clusters of finished test runs: their directory's lock is free once the test
/// process that held it is gone.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(DIR_PREFIX));
        // A young directory may be another run's, not locked yet.
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        if is_ours && age > std::time::Duration::from_secs(600) && !is_locked(&path) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn is_locked(dir: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("flotilla.lock"))
    else {
        // No lock file: set-up died before starting; stale.
        return false;
    };
    Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err()
}
