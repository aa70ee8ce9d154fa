//! Expired log-ins and device authorizations do not pile up: the accounts service's sweeper
//! deletes them in the background (at start-up, then periodically), and spares rows still live
//! or within their grace day.

use std::time::Duration;

use flotilla_core::testing::{TestDb, TestServer};
use flotilla_core::AppContext;

use crate::support::app::{build_with_workers, test_settings};
use crate::support::eventually::eventually;

#[tokio::test]
async fn expired_log_ins_and_device_codes_are_swept_and_live_ones_kept() {
    let db = TestDb::new().await;
    // Rows left behind by log-ins and devices that never came back, and live ones.
    for (state, expires_in_secs) in [(b"expired".as_slice(), -60.0), (b"live".as_slice(), 600.0)] {
        sqlx::query!(
            "INSERT INTO login_attempts (state_hash, provider, pkce_verifier, nonce, return_to, expires_at) \
             VALUES ($1, 'default', 'verifier', 'nonce', '/', now() + make_interval(secs => $2))",
            state,
            expires_in_secs,
        )
        .execute(&db.pool)
        .await
        .expect("insert a log-in attempt");
    }
    // Device codes keep a day of grace after expiry, so a late poll still hears `expired_token`.
    for (user_code, expires_in_secs) in [("OLDOLDOL", -2.0 * 86_400.0), ("GRACEGRA", -3_600.0)] {
        sqlx::query!(
            "INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, expires_at, interval_secs) \
             VALUES ($1, $2, 'flotilla-cli', 'openid', now() + make_interval(secs => $3), 5)",
            user_code.as_bytes(),
            user_code,
            expires_in_secs,
        )
        .execute(&db.pool)
        .await
        .expect("insert a device code");
    }

    let settings = test_settings(&[]);
    let ctx = AppContext::new(settings.config.clone(), db.pool.clone());
    ctx.readiness.set_ready();
    let _server = TestServer::start(build_with_workers(&settings, ctx.clone())).await;

    let kept = eventually(
        Duration::from_secs(10),
        "the expired rows swept",
        || async {
            let attempts: Vec<Vec<u8>> =
                sqlx::query_scalar!("SELECT state_hash FROM login_attempts")
                    .fetch_all(&db.pool)
                    .await
                    .expect("log-in attempts");
            let codes: Vec<String> = sqlx::query_scalar!("SELECT user_code FROM device_codes")
                .fetch_all(&db.pool)
                .await
                .expect("device codes");
            (attempts.len() == 1 && codes.len() == 1).then_some((attempts, codes))
        },
    )
    .await;
    assert_eq!(kept, (vec![b"live".to_vec()], vec!["GRACEGRA".to_owned()]));
}
