//! The accounts service: people log in with their company's OpenID provider, sign up for an
//! account, manage its members and API tokens; and Flotilla's own token service issues the
//! short-lived tokens the CLI and the API use.

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod error;
pub mod keys;
pub mod login;
pub mod members;
pub mod metrics;
pub mod oauth;
pub mod pages;
pub mod persons;
pub mod rate_limit;
pub mod sessions;
pub mod settings;
pub mod signup;
pub mod sweeper;
pub mod upstream;

use std::net::IpAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use flotilla_core::config::Config;
use flotilla_core::http::metrics::Metrics;
use flotilla_core::{AppContext, Error as CoreError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use keys::Signer;
use metrics::AccountsMetrics;
use rate_limit::{Limit, RateLimiter};
use settings::AccountsSettings;
use upstream::Upstream;

/// The service's own state (beside the shared [`AppContext`]), reached through an
/// `Extension` layer.
pub struct Accounts {
    /// Signs Flotilla's tokens.
    pub signer: Arc<Signer>,
    /// The upstream OpenID providers.
    pub upstream: Upstream,
    /// Rate limits of this replica.
    pub limiter: RateLimiter,
    /// The service's metrics.
    pub metrics: AccountsMetrics,
}

impl Accounts {
    /// The service's state for `settings` (and the shared `config`): reads the providers and
    /// the wrapping key, and registers the service's metrics in `metrics`.
    pub fn new(
        config: &Config,
        settings: &AccountsSettings,
        metrics: &Metrics,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            signer: Arc::new(Signer::new(config, settings)?),
            upstream: Upstream::new(upstream::providers::load(settings)?)?,
            limiter: RateLimiter::default(),
            metrics: AccountsMetrics::registered(metrics),
        }))
    }

    /// Takes a token of `limit` for `client`, or answers 429.
    pub fn limit(&self, limit: Limit, client: IpAddr) -> Result<(), CoreError> {
        self.limiter
            .check(limit, client)
            .map_err(CoreError::RateLimited)
    }
}

/// The JSON API and the OAuth endpoints, with their OpenAPI descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::sign_up))
        .routes(routes!(accounts::get_account, accounts::update_settings))
        .routes(routes!(members::list_members, members::add_member))
        .routes(routes!(members::remove_member))
        .routes(routes!(api_tokens::create_token, api_tokens::list_tokens))
        .routes(routes!(api_tokens::revoke_token))
        .routes(routes!(audit::audit))
        .routes(routes!(oauth::token::token))
        .routes(routes!(oauth::device::start))
        .routes(routes!(oauth::revoke::revoke))
        .routes(routes!(oauth::discovery::openid_configuration))
        .routes(routes!(oauth::discovery::authorization_server))
        .routes(routes!(oauth::discovery::jwks))
}

/// The browser pages: log-in, sign-up, consent, device approval.
pub fn page_routes() -> Router<AppContext> {
    Router::new()
        .route("/", get(signup::home))
        .route("/login", get(login::login))
        .route("/login/dev", post(login::developer))
        .route("/auth/callback", get(login::callback))
        .route("/logout", post(login::logout))
        .route("/signup", get(signup::form).post(signup::submit))
        .route(
            "/oauth/authorize",
            get(oauth::authorize::consent).post(oauth::authorize::decide),
        )
        .route(
            "/device",
            get(oauth::device::page).post(oauth::device::decide),
        )
}

/// The service's background work: the signing-key schedule and the expired-row sweeper.
/// Call once the database is migrated. (The auth caches' listener serves every service; the
/// server starts it.)
pub fn spawn_workers(ctx: &AppContext, accounts: &Accounts) {
    tokio::spawn(keys::run_rotation(
        ctx.clone(),
        accounts.signer.clone(),
        accounts.metrics.clone(),
    ));
    tokio::spawn(sweeper::run_sweeper(ctx.clone()));
}
