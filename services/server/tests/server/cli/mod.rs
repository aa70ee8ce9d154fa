//! The `flotilla` CLI end to end: the real binary against a running Flotilla and the
//! `oidc-provider` test provider, with the test playing the person's browser.

mod login;
mod parallel;
mod use_cases;
