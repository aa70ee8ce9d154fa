//! The DNS service: global DNS for the accounts' hosts. Agents report endpoints; each host is
//! planned into latency-per-region and weighted-per-cluster record sets (a pure function);
//! a durable reconciler brings the provider's zone (Route53, PowerDNS, or none) to the plan,
//! one worker per zone, changing only records Flotilla owns. The service's settings (the
//! provider) are in `settings`, its metrics in `metrics`; [`Dns`] holds both for the
//! handlers and the reconciler.

pub mod endpoints;
pub mod hosts;
pub mod metrics;
pub mod plan;
pub mod providers;
pub mod reconciler;
pub mod records;
pub mod responses;
pub mod rules;
pub mod settings;
pub mod views;

use std::sync::Arc;

use flotilla_core::http::metrics::Metrics;
use flotilla_core::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::metrics::DnsMetrics;
use crate::providers::Provider;
use crate::settings::DnsSettings;

/// The service's own state (beside the shared [`AppContext`]), reached through an
/// `Extension` layer.
pub struct Dns {
    /// The service's settings.
    pub settings: DnsSettings,
    /// The service's metrics.
    pub metrics: DnsMetrics,
}

impl Dns {
    /// The service's state for `settings`, its metrics registered in `metrics`.
    pub fn new(settings: DnsSettings, metrics: &Metrics) -> Arc<Self> {
        Arc::new(Self {
            settings,
            metrics: DnsMetrics::registered(metrics),
        })
    }
}

/// The service's JSON API, with its OpenAPI descriptions.
pub fn api_routes() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(endpoints::report::put, endpoints::report::delete))
        .routes(routes!(endpoints::set::get, endpoints::set::replace))
        .routes(routes!(views::endpoints))
        .routes(routes!(views::records))
        .routes(routes!(views::changes))
}

/// The service's background work: the reconciler of the configured provider. Call once the
/// database is migrated.
pub fn spawn_workers(ctx: &AppContext, dns: &Arc<Dns>) {
    let (ctx, dns) = (ctx.clone(), dns.clone());
    tokio::spawn(async move {
        match Provider::from_settings(&dns.settings, &ctx.config.dns_base_domain).await {
            Ok(provider) => reconciler::run(ctx, dns, Arc::new(provider)).await,
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "the DNS provider cannot be set up; DNS is not reconciled"
            ),
        }
    });
}
