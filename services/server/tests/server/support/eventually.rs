//! Waiting for what happens in the background (workers, replicas, peers): polling with a
//! deadline instead of sleeping a guessed time.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `check` until it gives `Some`, at most `within`; panics with `what` otherwise.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > within {
            panic!("not within {within:?}: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
