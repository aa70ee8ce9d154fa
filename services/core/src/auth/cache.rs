//! A per-replica cache of verified credentials and memberships, so the hot path (an agent or
//! the CLI calling with the same token again) costs no database round trip. It is derived
//! state only: every change to sessions, grants, API tokens, memberships or keys is announced
//! with `NOTIFY flotilla_auth`, and every replica clears its cache when it hears one. While
//! the replica is not listening (start-up, a lost connection) the cache is bypassed, so a
//! missed notification can never keep a revoked credential alive. Entries also expire after
//! at most [`MAX_AGE`] regardless, each at its own moment between half of it and all of it:
//! entries stored together (every agent of a fleet in its first minute) would otherwise
//! expire together and all be verified again in the same instant.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};

/// The channel of change announcements.
pub const CHANNEL: &str = "flotilla_auth";

/// Longest time an entry is trusted without a database check.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Entries beyond which a map is simply cleared (a bound on memory, not an eviction policy).
const MAX_ENTRIES: usize = 100_000;

/// A map whose entries expire, shared between request tasks.
pub struct ExpiringMap<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> Default for ExpiringMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> ExpiringMap<K, V> {
    /// The live value under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone())
    }

    /// Keeps `value` under `key` until `until` (at most [`MAX_AGE`] from now, spread), unless
    /// the generation moved on since `seen` (a change was announced while `value` was being
    /// read from the database, so it may already be stale).
    pub fn insert(&self, key: K, value: V, until: Instant, generation: &Generation, seen: u64) {
        let until = until.min(Instant::now() + spread_age());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock that `clear` takes after bumping the generation: either the
        // bump is seen here, or the clear comes after this insert and removes it.
        if generation.current() != seen {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (value, until));
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A lifetime between half of [`MAX_AGE`] and all of it, uniformly.
fn spread_age() -> Duration {
    let mut bytes = [0u8; 2];
    // Without randomness (never seen in practice) every entry gets the full age.
    let fraction = match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX),
        Err(_) => 1.0,
    };
    MAX_AGE.mul_f64(0.5 + fraction / 2.0)
}

/// A counter bumped on every change announcement, before the caches are cleared.
#[derive(Default)]
pub struct Generation(AtomicU64);

impl Generation {
    /// The current generation.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Moves to the next generation.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Whether this replica currently hears change announcements (and may trust its caches).
#[derive(Default)]
pub struct Listening(AtomicBool);

impl Listening {
    /// Whether caches may be used.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }
}

/// Announces a change, inside the transaction that makes it (delivered at commit).
pub async fn announce(conn: &mut PgConnection, what: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, what)
        .execute(conn)
        .await?;
    Ok(())
}

/// Listens for announcements until the server stops (its pool closes), calling `on_change` for each (and once
/// on every (re)connection, since announcements may have been missed meanwhile).
pub async fn listen(db: PgPool, listening: &Listening, on_change: impl Fn(&str)) {
    let mut delay = Duration::from_millis(100);
    loop {
        match PgListener::connect_with(&db).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "cannot listen for auth changes; caches off");
                } else {
                    on_change("");
                    listening.set(true);
                    delay = Duration::from_millis(100);
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        on_change(notification.payload());
                    }
                    listening.set(false);
                    on_change("");
                    if !db.is_closed() {
                        tracing::warn!(
                            "lost the auth-change listener; caches off until it is back"
                        );
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "auth-change listener cannot connect yet"),
        }
        if db.is_closed() {
            return; // the server is stopping
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stored_together_expire_apart_within_the_maximum_age() {
        let ages: Vec<Duration> = (0..64).map(|_| spread_age()).collect();
        assert!(ages.iter().all(|a| *a >= MAX_AGE / 2 && *a <= MAX_AGE));
        let (first, last) = (ages.iter().min(), ages.iter().max());
        // 64 draws over 30 s all within one second of each other: the spread is broken.
        assert!(last
            .zip(first)
            .is_some_and(|(l, f)| *l - *f > Duration::from_secs(1)));
    }
}
