//! Whether a request's body arrived in full. A client that declares more than it sends holds
//! its request until the request timeout; that is the client's fault, answered 408, not a
//! gateway's 504.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};

/// Set once the body has been read to its end (at once for a request without one, which is
/// therefore never taken for a short body).
#[derive(Clone, Default)]
pub struct Arrived(Arc<AtomicBool>);

impl Arrived {
    /// Whether the whole body arrived.
    pub fn is_whole(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `body`, reporting its end to the returned flag.
pub fn watch(body: Body) -> (Body, Arrived) {
    let arrived = Arrived::default();
    if body.is_end_stream() {
        arrived.0.store(true, Ordering::Release);
    }
    let watched = Watched {
        inner: body,
        arrived: arrived.clone(),
    };
    (Body::new(watched), arrived)
}

struct Watched {
    inner: Body,
    arrived: Arrived,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.arrived.0.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
