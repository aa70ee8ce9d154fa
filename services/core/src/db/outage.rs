//! The database going away: what a failed statement means for the request that ran it, and a
//! breaker that answers API requests at once (503, `Retry-After`) while Postgres cannot be
//! reached, instead of letting each one wait out the pool's acquire timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// How a database error bears on the request that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be had (the pool timed out, or Postgres refuses connections): the
    /// statement was never sent.
    Unreachable,
    /// The connection broke while a statement ran (or its commit): it may have taken effect.
    Lost,
    /// Anything else: a fault of ours, answered 500.
    Other,
}

impl Failure {
    /// Sorts a sqlx error.
    pub fn of(error: &sqlx::Error) -> Failure {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Failure::Unreachable,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Failure::Lost,
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // cannot_connect_now (starting up or shutting down), too_many_connections.
                Some("57P03" | "53300") => Failure::Unreachable,
                // Class 08 (connection exception), admin_shutdown, crash_shutdown.
                Some(code) if code.starts_with("08") || code == "57P01" || code == "57P02" => {
                    Failure::Lost
                }
                _ => Failure::Other,
            },
            _ => Failure::Other,
        }
    }
}

/// How long a client should wait before trying again while the database is away (seconds).
pub const RETRY_AFTER_SECS: u64 = 1;
/// How often the breaker tries to reach Postgres while it is marked away.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long one probe may take to connect and answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the database is known to be away. Set when a request fails for want of it; a
/// probe on a connection of its own (not the pool's, which may merely be busy) clears it as
/// soon as Postgres answers again.
#[derive(Debug)]
pub struct Outage {
    away: AtomicBool,
    probing: AtomicBool,
    connect: PgConnectOptions,
}

impl Outage {
    /// A breaker probing with `connect` (the pool's own connection settings).
    pub fn new(connect: PgConnectOptions) -> Self {
        Self {
            away: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            connect,
        }
    }

    /// Whether requests that need the database should be answered 503 at once.
    pub fn is_away(&self) -> bool {
        self.away.load(Ordering::Relaxed)
    }

    /// Marks the database away (a request just failed for want of it) and starts the probe
    /// that clears the mark, unless one runs already.
    pub fn report(self: &Arc<Self>) {
        self.away.store(true, Ordering::Relaxed);
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(
            "the database cannot be reached: API requests are answered 503 until it is back"
        );
        let outage = self.clone();
        tokio::spawn(async move {
            while !outage.answers().await {
                tokio::time::sleep(PROBE_EVERY).await;
            }
            outage.away.store(false, Ordering::Relaxed);
            outage.probing.store(false, Ordering::Release);
            tracing::info!("the database answers again");
        });
    }

    async fn answers(&self) -> bool {
        let probe = async {
            let mut conn = self.connect.connect().await?;
            conn.ping().await?;
            conn.close().await
        };
        matches!(tokio::time::timeout(PROBE_TIMEOUT, probe).await, Ok(Ok(())))
    }
}

/// Marks a response that failed for want of the database, for the envelope to report.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseAway;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_they_mean_for_the_request() {
        assert_eq!(
            Failure::of(&sqlx::Error::PoolTimedOut),
            Failure::Unreachable
        );
        assert_eq!(Failure::of(&sqlx::Error::PoolClosed), Failure::Unreachable);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(Failure::of(&sqlx::Error::Io(reset)), Failure::Lost);
        assert_eq!(Failure::of(&sqlx::Error::RowNotFound), Failure::Other);
    }
}
