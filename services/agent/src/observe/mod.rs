//! What the agent shows of itself: readiness (`health`), Prometheus metrics (`metrics`), and
//! the small HTTP server that serves both with `/healthz` (`serve`).

pub mod health;
pub mod metrics;
pub mod serve;
