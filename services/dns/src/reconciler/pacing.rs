//! Pacing of provider requests: a least interval between requests (Route53 allows five a
//! second per AWS account) and exponential backoff with jitter after throttling or outages.

use std::time::Duration;

use tokio::time::Instant;

/// First backoff after a failure.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest backoff.
const BACKOFF_CAP: Duration = Duration::from_secs(20);

/// Spaces requests and backs off after failures.
#[derive(Debug)]
pub struct Pacer {
    min_interval: Option<Duration>,
    next: Instant,
    failures: u32,
}

impl Pacer {
    /// A pacer allowing one request per `min_interval` (or unpaced).
    pub fn new(min_interval: Option<Duration>) -> Pacer {
        Pacer {
            min_interval,
            next: Instant::now(),
            failures: 0,
        }
    }

    /// Waits until the next request may go, and books it.
    pub async fn ready(&mut self) {
        tokio::time::sleep_until(self.next).await;
        self.next = Instant::now() + self.min_interval.unwrap_or_default();
    }

    /// Records a success: the backoff starts over.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Records a failure and pushes the next request back by an exponential, jittered delay
    /// (half of it fixed, half random, so replicas and retries do not fall in step).
    pub fn failed(&mut self) -> Duration {
        let delay = backoff(self.failures, random_fraction());
        self.failures = self.failures.saturating_add(1);
        self.next = self.next.max(Instant::now() + delay);
        delay
    }
}

/// The delay after `failures` earlier failures, with `jitter` in [0, 1).
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(1u32 << failures.min(16))
        .min(BACKOFF_CAP);
    full / 2 + full.mul_f64(jitter / 2.0)
}

fn random_fraction() -> f64 {
    f64::from(getrandom::u32().unwrap_or(0)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap_with_bounded_jitter() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(125));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(250));
        assert_eq!(backoff(3, 0.999_999), Duration::from_micros(1_999_999));
        assert_eq!(backoff(10, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(u32::MAX, 0.0), Duration::from_secs(10));
        assert!(backoff(40, 0.999) < BACKOFF_CAP);
    }

    #[tokio::test]
    async fn requests_are_spaced_by_the_interval() {
        let mut pacer = Pacer::new(Some(Duration::from_millis(20)));
        let start = Instant::now();
        for _ in 0..6 {
            pacer.ready().await;
        }
        // A lower bound only: six requests cannot go out faster than five intervals.
        assert!(
            start.elapsed() >= Duration::from_millis(100),
            "{:?}",
            start.elapsed()
        );
    }
}
