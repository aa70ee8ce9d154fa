//! Per-account change counters of the directory, which derived caches are keyed by and
//! long-polls wait on. Postgres announces every change (`NOTIFY flotilla_directory`, from
//! triggers); the directory's listener bumps the account here, and so does the replica that
//! made the change, at once after its commit, so it reads its own writes.
//!
//! Versions come from one counter for all accounts, so a version is never seen twice for one
//! account, even after its entry was dropped to bound memory: a cache entry stored under a
//! version is current exactly while the account's version is still that one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;
use uuid::Uuid;

/// Accounts beyond which those with no waiter are forgotten (a bound on memory).
const MAX_ACCOUNTS: usize = 50_000;

/// The change counters of every account this replica has looked at.
#[derive(Default)]
pub struct Changes {
    state: Mutex<State>,
    closing: AtomicBool,
}

#[derive(Default)]
struct State {
    counter: u64,
    accounts: HashMap<Uuid, watch::Sender<u64>>,
}

impl Changes {
    /// The account's current version.
    pub fn version(&self, account: Uuid) -> u64 {
        *self.lock().sender(account).borrow()
    }

    /// A receiver that sees each later change of the account (its current value is marked
    /// seen).
    pub fn subscribe(&self, account: Uuid) -> watch::Receiver<u64> {
        self.lock().sender(account).subscribe()
    }

    /// The account changed.
    pub fn bump(&self, account: Uuid) {
        let mut state = self.lock();
        state.counter += 1;
        let version = state.counter;
        if let Some(sender) = state.accounts.get(&account) {
            sender.send_replace(version);
        }
    }

    /// Every account may have changed (announcements may have been missed).
    pub fn bump_all(&self) {
        let mut state = self.lock();
        state.counter += 1;
        let version = state.counter;
        for sender in state.accounts.values() {
            sender.send_replace(version);
        }
    }

    /// The server is shutting down: every waiter is woken and should answer now.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.bump_all();
    }

    /// Whether the server is shutting down.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn sender(&mut self, account: Uuid) -> &watch::Sender<u64> {
        if self.accounts.len() >= MAX_ACCOUNTS && !self.accounts.contains_key(&account) {
            self.accounts
                .retain(|_, sender| sender.receiver_count() > 0);
        }
        let counter = self.counter;
        self.accounts
            .entry(account)
            .or_insert_with(|| watch::Sender::new(counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_moves_only_that_account_and_never_back() {
        let changes = Changes::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (va, vb) = (changes.version(a), changes.version(b));
        changes.bump(a);
        assert_ne!(changes.version(a), va);
        assert_eq!(changes.version(b), vb);
        // A bump of an account nobody looked at still moves the counter, so the account's
        // first version afterwards differs from any version a cache may hold for it.
        let c = Uuid::new_v4();
        changes.bump(c);
        assert!(changes.version(c) > va);
    }

    #[tokio::test]
    async fn waiters_wake_on_their_account_and_on_close() {
        let changes = Changes::default();
        let account = Uuid::new_v4();
        let mut rx = changes.subscribe(account);
        changes.bump(Uuid::new_v4());
        assert!(!rx.has_changed().expect("open"));
        changes.bump(account);
        assert!(rx.has_changed().expect("open"));
        rx.borrow_and_update();
        changes.close();
        assert!(rx.has_changed().expect("open"));
        assert!(changes.is_closing());
    }
}
