//! The application: every service's routes (each path written once, with its OpenAPI
//! description, through utoipa-axum), the OpenAPI document, the API reference, and the
//! shared HTTP stack around them.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use flotilla_core::config::Service;
use flotilla_core::http::{name_check, ops, serve_stack};
use flotilla_core::{AppContext, Problem};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::openapi::{self, describe_stack, mark};
use crate::services::Services;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The Content-Security-Policy of the API reference: its own scripts and styles only (Swagger
/// UI sets inline styles), so it renders without any network beyond this server.
const DOCS_CSP: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    connect-src 'self'; frame-ancestors 'none'";

/// A service's JSON API, with its OpenAPI descriptions.
fn service_api(service: Service) -> OpenApiRouter<AppContext> {
    match service {
        Service::Accounts => flotilla_accounts::api_routes(),
        Service::Clusters => flotilla_clusters::api_routes(),
        Service::Directory => flotilla_directory::api_routes(),
        Service::Dns => flotilla_dns::api_routes(),
    }
}

/// The whole API, and its document. Every service's paths are routed, so that the document
/// is always the whole API and a path of a service not in `runs` answers 421 (not 404): a
/// load balancer that sends it here is misconfigured, and should hear so.
fn api(runs: &[Service], services: Option<&Services>) -> (Router<AppContext>, OpenApiDocument) {
    let mut api = OpenApiRouter::with_openapi(openapi::base())
        .merge(ops::router())
        .merge(name_check::router());
    for service in Service::ALL {
        let mut routes = service_api(service);
        if let Some(services) = services {
            routes = with_state_of(service, services, routes);
        }
        mark(routes.get_openapi_mut(), service);
        api = api.merge(if runs.contains(&service) {
            routes
        } else {
            routes.route_layer(elsewhere(service, runs))
        });
    }
    let (router, mut document) = api.split_for_parts();
    describe_stack(&mut document);
    (router, document)
}

/// A layer that answers every request with 421 Misdirected Request: `service` runs in
/// another process.
fn elsewhere(
    service: Service,
    runs: &[Service],
) -> axum::middleware::FromFnLayer<
    impl Fn(Request, Next) -> std::future::Ready<Response> + Clone,
    (),
    (Request,),
> {
    let runs: Vec<&str> = runs.iter().map(|s| s.name()).collect();
    let detail = format!(
        "This path belongs to Flotilla's {service} service, which this process does not run \
         (FLOTILLA_SERVICES={}): route it to a process that runs {service}.",
        runs.join(",")
    );
    axum::middleware::from_fn(move |_: Request, _: Next| {
        std::future::ready(
            Problem::new(
                StatusCode::MISDIRECTED_REQUEST,
                "misdirected",
                detail.clone(),
            )
            .into_response(),
        )
    })
}

/// The OpenAPI document as committed in `openapi/openapi.json` and served at `/openapi.json`.
pub fn openapi_json() -> String {
    render(&api(&Service::ALL, None).1)
}

fn render(document: &OpenApiDocument) -> String {
    let mut json = document
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

/// `routes` of `service` with that service's state, as an `Extension` on its own routes only:
/// every extension is one more insertion into each request's map, which a long-poll holds for
/// its whole wait.
fn with_state_of<R: Clone + Send + Sync + 'static>(
    service: Service,
    services: &Services,
    routes: OpenApiRouter<R>,
) -> OpenApiRouter<R> {
    match service {
        Service::Accounts => routes.layer(Extension(services.accounts.clone())),
        Service::Clusters => routes.layer(Extension(services.clusters.clone())),
        Service::Directory => routes.layer(Extension(services.directory.clone())),
        Service::Dns => routes.layer(Extension(services.dns.clone())),
    }
}

/// The whole application over `ctx` and the services' states, wrapped in the shared HTTP
/// stack.
pub fn build(ctx: AppContext, services: &Services) -> Router {
    let (api, document) = api(&ctx.config.services, Some(services));
    // Bytes: each request clones a reference, not the document.
    let spec = Bytes::from(render(&document));
    // The pages (log-in, sign-up, the console) belong to the accounts service.
    let mut pages = flotilla_accounts::page_routes()
        .merge(flotilla_web::routes())
        .layer(Extension(services.accounts.clone()));
    if !ctx.config.runs(Service::Accounts) {
        pages = pages.route_layer(elsewhere(Service::Accounts, &ctx.config.services));
    }
    let router = api
        .route(
            OPENAPI_PATH,
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], spec) }),
        )
        .merge(pages)
        .with_state(ctx.clone())
        .merge(docs());
    serve_stack(router, &ctx)
}

/// Starts the background work of the services this process runs, over a migrated database.
pub fn spawn_workers(ctx: &AppContext, services: &Services) {
    // Every service authenticates requests, so every process keeps its auth caches in step
    // with every replica's changes.
    tokio::spawn(flotilla_core::auth::run_listener(ctx.clone()));
    for service in Service::ALL.into_iter().filter(|s| ctx.config.runs(*s)) {
        match service {
            Service::Accounts => flotilla_accounts::spawn_workers(ctx, &services.accounts),
            Service::Clusters => flotilla_clusters::spawn_workers(ctx, &services.clusters),
            Service::Directory => flotilla_directory::spawn_workers(ctx),
            Service::Dns => flotilla_dns::spawn_workers(ctx, &services.dns),
        }
    }
}

/// `/docs`: Swagger UI from the vendored `utoipa-swagger-ui` assets, served by the binary.
fn docs() -> Router {
    let config = SwaggerConfig::new([OPENAPI_PATH])
        // The default validator badge would call out to the internet.
        .validator_url("none")
        .try_it_out_enabled(true);
    Router::from(SwaggerUi::new("/docs").config(config)).route_layer(
        SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        ),
    )
}
