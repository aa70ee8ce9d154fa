//! The accounts service against a real OpenID provider (`oidc-provider`), a real browser
//! flow and a real Postgres.

mod api_tokens;
mod grants;
mod isolation;
mod login;
mod secrets;
mod sweeper;
