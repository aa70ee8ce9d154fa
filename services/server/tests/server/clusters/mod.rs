//! The clusters service against a real Postgres: registration tokens, registration with its
//! refusals, cluster assertions, heartbeats and status, the audit log. The certificates are
//! real (rcgen and openssl), and so are the assertions (signed with ring).

mod assertions;
mod audit;
mod failover;
mod heartbeats;
mod registration;
mod tokens;
