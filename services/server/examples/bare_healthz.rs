//! Benchmark baseline: the same `/healthz` handler as flotilla-server, served by bare axum with
//! no middleware at all, so `bench/foundation.sh` can show what the stack costs.
//!
//! Usage: `bare_healthz 127.0.0.1:9000`

use axum::routing::get;
use axum::Router;
use flotilla_core::http::ops::healthz;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/healthz", get(healthz));
    axum::serve(listener, app).await
}
