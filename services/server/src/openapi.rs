//! The OpenAPI document's own parts: its fixed header and security schemes, the service that
//! serves each operation, and the answers of the shared HTTP stack (the edge's checks and the
//! database breaker), written once here for every operation they apply to instead of in each
//! handler's annotation.

use axum::http::StatusCode;
use flotilla_core::config::Service;
use flotilla_core::http::edge::needs_database;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDocument, Ref, ResponseBuilder};
use utoipa::OpenApi;

/// The document's fixed parts; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flotilla API",
        description = "Control plane for fleets of Kubernetes clusters: accounts, cluster \
            registration, a public-key directory of SPIFFE identities, and global DNS. \
            Every error is an RFC 9457 problem document (`application/problem+json`). \
            No string may contain NUL (U+0000): it is refused with 400 in a path or query and \
            422 in a body. A number with a zero fraction (`3600.0`) is read as that integer. \
            Each operation's `x-flotilla-service` names the service that serves it \
            (`accounts`, `clusters`, `directory` or `dns`; see `--services`); the others are \
            served by every process.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "names", description = "Validation of account and cluster names"),
        (name = "accounts", description = "Sign-up, accounts and the caller"),
        (name = "members", description = "Members of an account and their roles"),
        (name = "tokens", description = "API tokens of an account"),
        (name = "clusters", description = "Registration tokens, cluster registration, heartbeats and cluster events"),
        (name = "directory", description = "The public-key directory: kubeconfig and identity-provider lookups, SPIFFE bundles and bundle maps, JWT authorities"),
        (name = "dns", description = "Global DNS: endpoint reports, the planned record sets and the history of changes sent to the provider"),
        (name = "audit", description = "The audit log of an account"),
        (name = "oauth", description = "Flotilla's OAuth 2.0 authorization server, for the CLI"),
    ),
    components(schemas(flotilla_core::Problem, flotilla_core::FieldError)),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

/// The document's fixed parts, to which the routes add their paths and schemas.
pub fn base() -> OpenApiDocument {
    ApiDoc::openapi()
}

/// The two ways to authenticate: a bearer token (an access token from `/oauth/token`, or an
/// API token) and the browser's session cookie.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token (JWT from /oauth/token) or an API token (flt_...)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "registration_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A registration token (flreg_...): registers clusters of its account, and nothing else",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cluster_assertion",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A cluster assertion: a JWT (ES256, ES384, RS256 or PS256) signed by a leaf \
                         certificate that chains, through the x5c header, to one of the cluster's \
                         identity CAs; aud is FLOTILLA_PUBLIC_URL, lifetime at most 300 s",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-flotilla_session",
                "The browser session (flotilla_session in development mode); state-changing requests must come from Flotilla's origin",
            ))),
        );
    }
}

/// Marks each operation of `document` with the service that serves it, as
/// `x-flotilla-service`: what a load balancer in front of separately deployed services routes
/// by (operations without it are served by every process).
pub fn mark(document: &mut OpenApiDocument, service: Service) {
    for (_, operation) in operations(document) {
        operation
            .extensions
            .get_or_insert_with(Default::default)
            .insert("x-flotilla-service".into(), service.name().into());
    }
}

/// Every operation of `document`.
fn operations(document: &mut OpenApiDocument) -> impl Iterator<Item = (&String, &mut Operation)> {
    document.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        .map(move |operation| (path, operation))
    })
}

/// Adds to each operation of `document` the answers the shared stack may give it, where its
/// own annotation does not already describe that status:
/// - 400 when it has a path or query parameter or a body (a NUL byte or invalid UTF-8 in the
///   URI, a parameter of the wrong type, malformed JSON);
/// - 401 when it needs credentials;
/// - 408 and 413 when it takes a body, 415 when that body is JSON, and 422 when it takes a
///   JSON body or a query (not an object, a duplicate key, a NUL character, a field of the
///   wrong type or out of range);
/// - 503 when it reads the database (the API, OAuth, SPIFFE and signing-key paths).
pub fn describe_stack(document: &mut OpenApiDocument) {
    for (path, operation) in operations(document) {
        let params = operation.parameters.as_deref().unwrap_or_default();
        let has_query = params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query));
        let has_path = params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path));
        let body = operation.request_body.as_ref();
        let json_body = body.is_some_and(|b| b.content.contains_key("application/json"));
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        // The paths the database breaker answers at once (and that time out on the pool).
        let database = needs_database(path);
        let answers = [
            (StatusCode::BAD_REQUEST, has_path || has_query || body.is_some(),
                "The request cannot be read: a NUL byte or invalid UTF-8 in its path or query, a path parameter of the wrong form, or malformed JSON"),
            (StatusCode::UNAUTHORIZED, secured, "No credentials, or refused ones (the detail says why)"),
            (StatusCode::REQUEST_TIMEOUT, body.is_some(), "The body ended before its Content-Length, or did not arrive in time"),
            (StatusCode::PAYLOAD_TOO_LARGE, body.is_some(), "The body is larger than this operation accepts"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, json_body, "The body is not JSON"),
            (StatusCode::UNPROCESSABLE_ENTITY, json_body || has_query,
                "A body that is not a JSON object, has a duplicate key or a NUL character, or a field or query parameter of the wrong type or out of range (`errors` names each)"),
            (StatusCode::SERVICE_UNAVAILABLE, database,
                "The database cannot be reached: `unavailable` (retry after `Retry-After`), or `outcome-unknown` when it broke while a change was being made (check before retrying)"),
        ];
        for (status, applies, description) in answers {
            if applies {
                operation
                    .responses
                    .responses
                    .entry(status.as_u16().to_string())
                    .or_insert_with(|| problem(description).into());
            }
        }
    }
}

/// A problem+json answer.
fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
