//! Accepting and serving client connections, with the limits `axum::serve` does not set: a
//! deadline for each request's headers (which also ends a keep-alive connection left idle:
//! hyper waits for the next request's headers under the same deadline), and a cap on the
//! connections held at once. Without them a client trickling a byte every few seconds, or
//! thousands of idle sockets, held memory and descriptors for as long as they liked.
//! HTTP/1.1 only, as `axum::serve` with axum's `http1` feature served before: hyper's HTTP/2
//! has no header deadline, and a proxy or load balancer in front speaks HTTP/1.1 to
//! backends.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The limits of connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a request's headers (and for the next request on an idle connection).
    pub header_read_timeout: Duration,
    /// Most connections held at once.
    pub max_connections: u32,
}

/// After a failed `accept` (out of descriptors, mostly), a pause before the next: trying
/// again at once would only spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes, then waits for the open
/// connections to finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections as usize));
    tokio::pin!(shutdown);
    loop {
        // At the cap, nothing is accepted: new connections wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Nagle's delay only slows small answers down.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            TowerToHyperService::new(tower::service_fn(move |mut request: Request<Incoming>| {
                // The client's address, as `axum::serve` gives it (rate limits, audit).
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request)
            }));
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let first_bytes = limits.header_read_timeout;
        tokio::spawn(async move {
            // A client that never sends a byte is held to the same deadline here, whenever
            // hyper's own timer starts.
            let mut peeked = [0u8; 1];
            let spoke = tokio::time::timeout(first_bytes, stream.peek(&mut peeked)).await;
            if matches!(spoke, Ok(Ok(n)) if n > 0) {
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                // A connection ending in an error (reset, timed out) is the client's business.
                if let Err(e) = watcher.watch(connection).await {
                    tracing::debug!(error = %e, "connection ended");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
