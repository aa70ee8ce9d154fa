//! The cluster's identity: its identity CA (the only private key of the cluster's identity,
//! kept in a `kubernetes.io/tls` Secret of the agent's namespace and nowhere else), and the
//! short-lived leaf certificates and cluster assertions the agent signs with it to speak for
//! the cluster. Nothing here ever logs or sends the CA's key.

pub mod assertion;
pub mod ca;
pub mod secret;

pub use assertion::Signer;
