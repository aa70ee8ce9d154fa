//! Rate limits on what can be guessed or flooded (log-in, the token and device endpoints,
//! user-code entry): a token bucket per client address and endpoint, in this replica's
//! memory. Behind N replicas a client gets at most N times the rate, which still bounds
//! guessing; no other replica needs this state.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::request::Parts;
use flotilla_core::http::client_addr;

/// Buckets beyond which idle ones are dropped.
const MAX_BUCKETS: usize = 50_000;

/// One limited endpoint: a burst and a sustained rate.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// A name for the endpoint (also the bucket's namespace).
    pub scope: &'static str,
    /// Requests allowed at once.
    pub burst: u32,
    /// Requests allowed per minute, sustained.
    pub per_minute: u32,
}

/// Log-in starts and callbacks.
pub const LOGIN: Limit = Limit {
    scope: "login",
    burst: 20,
    per_minute: 30,
};
/// The token endpoint (polling included: the device grant's interval keeps it slow).
pub const TOKEN: Limit = Limit {
    scope: "token",
    burst: 30,
    per_minute: 60,
};
/// Starting a device authorization.
pub const DEVICE_START: Limit = Limit {
    scope: "device-start",
    burst: 5,
    per_minute: 10,
};
/// Entering a user code on `/device`: what an attacker would guess.
pub const USER_CODE: Limit = Limit {
    scope: "user-code",
    burst: 5,
    per_minute: 10,
};

/// The buckets of this replica.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(&'static str, IpAddr), Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// Takes one token for `client` at `limit`; `Err(seconds to wait)` when there is none.
    pub fn check(&self, limit: Limit, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let rate = f64::from(limit.per_minute) / 60.0;
        let burst = f64::from(limit.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            // Drop the buckets that have refilled (they limit nothing); if that frees too
            // little, start afresh rather than scanning again on every request.
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_BUCKETS / 2 {
                buckets.clear();
            }
        }
        let bucket = buckets
            .entry((limit.scope, network(client)))
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The unit a client is limited by: its IPv4 address, or its IPv6 /64 (one host usually has a
/// whole /64, so single IPv6 addresses would be free to rotate).
fn network(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
    }
}

/// The client's address as an extractor (never fails).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_addr::of(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_client_waits_and_others_do_not() {
        let limiter = RateLimiter::default();
        let limit = Limit {
            scope: "t",
            burst: 3,
            per_minute: 6,
        };
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            limiter.check(limit, a).expect("within the burst");
        }
        let wait = limiter.check(limit, a).expect_err("over the burst");
        assert!((1..=10).contains(&wait), "{wait}");
        limiter
            .check(limit, b)
            .expect("another client has its own bucket");
        let v6 = |last: u16| IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]);
        for i in 0..3 {
            limiter.check(limit, v6(i)).expect("within the burst");
        }
        assert!(
            limiter.check(limit, v6(99)).is_err(),
            "one /64 shares a bucket"
        );
    }
}
