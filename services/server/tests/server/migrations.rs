//! Migrations run once even when replicas start together.

use std::path::Path;

use flotilla_core::db::migrate;
use flotilla_core::testing::TestDb;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

#[tokio::test]
async fn concurrent_migrators_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow_migrations");
    let migrator = Migrator::new(dir).await.expect("fixture migrations");
    // Two "replicas", each with its own pool, as two processes would have.
    let replica = || {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(db.options())
    };
    let (a, b) = (
        replica().await.expect("pool"),
        replica().await.expect("pool"),
    );
    let (ra, rb) = tokio::join!(migrate(&a, &migrator), migrate(&b, &migrator));
    ra.expect("first replica migrates");
    rb.expect("second replica migrates");
    // Dynamic: `applied_once` exists only in this test's fixture migrations, not in the
    // schema the macros check against.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM applied_once")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1, "the migration ran exactly once");
}

#[tokio::test]
async fn the_template_holds_every_migration() {
    let db = TestDb::new().await;
    // Dynamic: `_sqlx_migrations` is the migrator's own bookkeeping, not part of the schema
    // the macros check against.
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&db.pool)
        .await
        .expect("migrations table");
    assert_eq!(applied as usize, flotilla_core::db::MIGRATOR.iter().count());
}
