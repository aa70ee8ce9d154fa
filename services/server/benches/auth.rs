//! Micro-benchmark (issue 4): the cost of authenticating a request with an access token, as
//! the extractor does it, against a real Postgres.
//!
//!   cargo bench -p flotilla-server --bench auth
//!
//! Reported, each as a median over many runs, and as a ratio to a baseline measured in the
//! same run (hashing the bearer token with SHA-256, the cheapest step every path takes):
//! - hot: the same token again (what a polling CLI or agent does) — the replica's cache,
//!   kept honest by LISTEN/NOTIFY;
//! - signature: verifying the ES256 signature and claims alone (keys in memory);
//! - cold: no cache: signature, then the grant's revocation check in Postgres.
//!
//! The target is a hot median under 50 µs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{header, Request};
use flotilla_core::auth::access_token::{audience, AccessClaims};
use flotilla_core::auth::credentials::authenticate;
use flotilla_core::auth::opaque;
use flotilla_core::testing::{TestDb, TEST_WRAPPING_SECRET};
use flotilla_core::AppContext;
use flotilla_server::services::Services;
use flotilla_server::settings::Settings;
use uuid::Uuid;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    for _ in 0..runs / 10 {
        f();
    }
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let db = TestDb::new().await;
    let settings = Settings::from_args(&[
        "--signing-key-wrapping-secret",
        TEST_WRAPPING_SECRET,
        "--public-url",
        "http://127.0.0.1:8080",
    ])
    .expect("the settings");
    let ctx = AppContext::new(settings.config.clone(), db.pool.clone());
    ctx.readiness.set_ready();
    let services = Services::new(&settings, &ctx).expect("the services' states");
    let accounts = &services.accounts;
    flotilla_server::app::spawn_workers(&ctx, &services);
    while !ctx.auth.listening.is_on() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (person, grant) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query!(
        "INSERT INTO persons (id, issuer, subject) VALUES ($1, 'bench', 'bench')",
        person
    )
    .execute(&ctx.db)
    .await
    .expect("a person");
    sqlx::query!("INSERT INTO oauth_grants (id, person_id, client_id, scope, expires_at) VALUES ($1, $2, 'flotilla-cli', 'api', now() + interval '1 day')", grant, person)
        .execute(&ctx.db)
        .await
        .expect("a grant");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let issuer = ctx.config.issuer().to_owned();
    let claims = AccessClaims {
        aud: audience(&issuer),
        iss: issuer.clone(),
        sub: person,
        iat: now,
        exp: now + 600,
        jti: Uuid::new_v4(),
        sid: grant,
        client_id: "flotilla-cli".into(),
        scope: "api".into(),
    };
    let token = accounts.signer.sign(&ctx, &claims).await.expect("a token");
    let (parts, ()) = Request::builder()
        .uri("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .expect("a request")
        .into_parts();

    let baseline = measure(20_000, || {
        std::hint::black_box(opaque::hash_array(std::hint::black_box(&token)));
    });

    let mut hot = Vec::with_capacity(20_000);
    for _ in 0..22_000 {
        let start = Instant::now();
        let found = authenticate(&ctx.auth, &ctx.db, &issuer, false, &parts).await;
        hot.push(start.elapsed());
        assert!(matches!(found, Ok(Some(_))), "the token authenticates");
    }
    let hot = median(hot.split_off(2_000));

    let keys = &ctx.auth.keys;
    keys.verify(&ctx.db, &issuer, &token).await.expect("valid");
    let mut signature = Vec::with_capacity(3_000);
    for _ in 0..3_000 {
        let start = Instant::now();
        std::hint::black_box(keys.verify(&ctx.db, &issuer, &token).await.expect("valid"));
        signature.push(start.elapsed());
    }
    let signature = median(signature);

    let mut cold = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        ctx.auth.forget("bench");
        keys.verify(&ctx.db, &issuer, &token)
            .await
            .expect("keys reloaded");
        let start = Instant::now();
        let found = authenticate(&ctx.auth, &ctx.db, &issuer, false, &parts).await;
        cold.push(start.elapsed());
        assert!(matches!(found, Ok(Some(_))));
    }
    let cold = median(cold);

    let ratio = |d: Duration| d.as_secs_f64() / baseline.as_secs_f64();
    println!("baseline (SHA-256 of the token): {baseline:?}");
    println!("hot (cached) access-token authentication: median {hot:?} = {:.1}x baseline (target < 50 µs)", ratio(hot));
    println!(
        "signature and claims only: median {signature:?} = {:.1}x baseline",
        ratio(signature)
    );
    println!(
        "cold (signature + grant check in Postgres): median {cold:?} = {:.1}x baseline",
        ratio(cold)
    );
    let verdict = if hot < Duration::from_micros(50) {
        "MET"
    } else {
        "MISSED"
    };
    println!("target: hot median under 50 µs: {verdict}");
}
