//! The accounts service against a real OpenID provider (`oidc-provider`), a real browser
//! flow and a real Postgres.

mod api_tokens;
pub mod grants;
pub mod harness;
mod isolation;
mod login;
mod secrets;

/// Percent-encodes a query value.
pub fn harness_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
