//! The typed client of Flotilla's HTTP API, shared by the `flotilla` CLI and `flotilla-agent`
//! so that neither keeps its own copy of the requests and answers. The server's OpenAPI
//! document is the contract: every operation here is listed in [`OPERATIONS`] with its path
//! template and body schemas, and a test of the server's suite (feature `contract`) fails
//! when an operation or a type here disagrees with the document.

pub mod accounts;
pub mod clusters;
pub mod directory;
pub mod endpoints;
mod error;
pub mod oauth;
pub mod tokens;

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

pub use error::{Error, FieldError, Problem};

/// The largest answer read (a bundle map of a thousand clusters is a few MiB).
const MAX_ANSWER: usize = 32 << 20;

/// One operation of the API: what the OpenAPI document calls it, and how it is sent.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The document's `operationId`.
    pub id: &'static str,
    /// The method.
    pub method: Method,
    /// The path template; each `{name}` segment takes the next parameter.
    pub path: &'static str,
    /// The request body's schema, if it has one.
    pub request: Option<&'static str>,
    /// The success answer's schema: a name, `[Name]` for a list of them, or none.
    pub response: Option<&'static str>,
}

macro_rules! operations {
    ($($name:ident = $id:literal $method:ident $path:literal, $request:expr, $response:expr;)*) => {
        $(
            #[doc = concat!("`", stringify!($method), " ", $path, "`")]
            pub const $name: Operation = Operation {
                id: $id,
                method: Method::$method,
                path: $path,
                request: $request,
                response: $response,
            };
        )*
        /// Every operation this client sends.
        pub const OPERATIONS: &[Operation] = &[$($name),*];
    };
}

operations! {
    ME = "me" GET "/api/v1/me", None, Some("Me");
    LIST_CLUSTERS = "list_clusters" GET "/api/v1/accounts/{account}/clusters", None, Some("[Cluster]");
    GET_CLUSTER = "get_cluster" GET "/api/v1/accounts/{account}/clusters/{cluster}", None, Some("Cluster");
    REGISTER_CLUSTER = "register_cluster" PUT "/api/v1/accounts/{account}/clusters/{cluster}", Some("ClusterRegistration"), Some("Registered");
    DEREGISTER_CLUSTER = "deregister_cluster" DELETE "/api/v1/accounts/{account}/clusters/{cluster}", None, None;
    HEARTBEAT = "heartbeat" POST "/api/v1/accounts/{account}/clusters/{cluster}/heartbeat", Some("Heartbeat"), Some("HeartbeatAck");
    KUBECONFIG = "kubeconfig" GET "/api/v1/accounts/{account}/clusters/{cluster}/kubeconfig", None, Some("Kubeconfig");
    CLUSTER_ENDPOINTS = "cluster_endpoints" GET "/api/v1/accounts/{account}/clusters/{cluster}/endpoints", None, Some("ClusterEndpoints");
    REPLACE_ENDPOINTS = "replace_endpoints" PUT "/api/v1/accounts/{account}/clusters/{cluster}/endpoints", Some("EndpointSetReport"), Some("ClusterEndpoints");
    REPORT_ENDPOINT = "report_endpoint" PUT "/api/v1/accounts/{account}/clusters/{cluster}/endpoints/{host}", Some("EndpointReport"), Some("EndpointView");
    WITHDRAW_ENDPOINT = "withdraw_endpoint" DELETE "/api/v1/accounts/{account}/clusters/{cluster}/endpoints/{host}", None, None;
    BUNDLE_MAP = "bundle_map" GET "/api/v1/accounts/{account}/bundles", None, Some("BundleMap");
    LIST_TOKENS = "list_tokens" GET "/api/v1/accounts/{account}/tokens", None, Some("[ApiToken]");
    CREATE_TOKEN = "create_token" POST "/api/v1/accounts/{account}/tokens", Some("NewApiToken"), Some("CreatedApiToken");
    REVOKE_TOKEN = "revoke_token" DELETE "/api/v1/accounts/{account}/tokens/{id}", None, None;
    LIST_REGISTRATION_TOKENS = "list_registration_tokens" GET "/api/v1/accounts/{account}/registration-tokens", None, Some("[RegistrationToken]");
    CREATE_REGISTRATION_TOKEN = "create_registration_token" POST "/api/v1/accounts/{account}/registration-tokens", Some("NewRegistrationToken"), Some("CreatedRegistrationToken");
    REVOKE_REGISTRATION_TOKEN = "revoke_registration_token" DELETE "/api/v1/accounts/{account}/registration-tokens/{id}", None, None;
}

/// A client of one Flotilla server. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: Url,
}

impl Client {
    /// A client of `server` (an http(s) URL) that identifies itself as `user_agent` and gives
    /// up on a call after `timeout`.
    pub fn new(server: &str, user_agent: &str, timeout: Duration) -> Result<Client, Error> {
        let server = parse_server(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(user_agent)
            .build()
            .map_err(|e| Error::Setup(format!("cannot start an HTTP client: {e}")))?;
        Ok(Client { http, server })
    }

    /// The server's URL, without a trailing slash (its issuer, and the assertion audience).
    pub fn server(&self) -> &str {
        self.server.as_str().trim_end_matches('/')
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server())
    }

    /// The URL of `op` with its path parameters `params`, each checked to be a plain name.
    pub fn operation_url(&self, op: &Operation, params: &[&str]) -> Result<String, Error> {
        let mut params = params.iter();
        let mut path = String::new();
        for segment in op.path.split('/').skip(1) {
            path.push('/');
            if segment.starts_with('{') {
                let value = params
                    .next()
                    .ok_or_else(|| Error::InvalidName(format!("{} needs {segment}", op.id)))?;
                check_segment(value)?;
                path.push_str(value);
            } else {
                path.push_str(segment);
            }
        }
        Ok(self.url(&path))
    }

    /// Sends `op` with `bearer` and an optional JSON body; the JSON answer.
    pub async fn call<B, R>(
        &self,
        op: &Operation,
        params: &[&str],
        bearer: &str,
        body: Option<&B>,
    ) -> Result<R, Error>
    where
        B: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let (status, text) = self.send(op, params, bearer, body).await?;
        self.decode(op, status, text)
    }

    /// Sends `op`, whose answer has no body.
    pub async fn call_empty<B: Serialize + ?Sized>(
        &self,
        op: &Operation,
        params: &[&str],
        bearer: &str,
        body: Option<&B>,
    ) -> Result<(), Error> {
        let (status, text) = self.send(op, params, bearer, body).await?;
        self.accept(status, text).map(drop)
    }

    /// The request of `op` to its URL, with `bearer`.
    fn request(
        &self,
        op: &Operation,
        params: &[&str],
        bearer: &str,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let url = self.operation_url(op, params)?;
        Ok(self
            .http
            .request(op.method.clone(), url)
            .bearer_auth(bearer))
    }

    /// Sends `op`; the status and text of whatever the server answered.
    async fn send<B: Serialize + ?Sized>(
        &self,
        op: &Operation,
        params: &[&str],
        bearer: &str,
        body: Option<&B>,
    ) -> Result<(u16, String), Error> {
        let mut request = self.request(op, params, bearer)?;
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        Ok((status, self.read(response).await?))
    }

    /// The text of `response`, refused past [`MAX_ANSWER`] bytes: a server's answer is an
    /// input like any other.
    async fn read(&self, mut response: reqwest::Response) -> Result<String, Error> {
        let status = response.status().as_u16();
        let too_large = || Error::Unexpected {
            server: self.server().to_owned(),
            status,
            what: format!("an answer over {} MiB", MAX_ANSWER >> 20),
        };
        if response.content_length().unwrap_or(0) > MAX_ANSWER as u64 {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unreachable(&e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An answer to `op`: its JSON when its status is a success, else the refusal.
    fn decode<R: DeserializeOwned>(
        &self,
        op: &Operation,
        status: u16,
        text: String,
    ) -> Result<R, Error> {
        let text = self.accept(status, text)?;
        serde_json::from_str(&text).map_err(|e| Error::Unexpected {
            server: self.server().to_owned(),
            status,
            what: format!("an answer that is not the API's {} ({e})", op.id),
        })
    }

    /// The text of a successful answer, or the refusal with its problem document.
    fn accept(&self, status: u16, text: String) -> Result<String, Error> {
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(Error::Refused {
            server: self.server().to_owned(),
            status,
            problem: serde_json::from_str::<Problem>(&text).ok().map(Box::new),
        })
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        let why = if e.is_timeout() {
            "no answer in time".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            e.to_string()
        };
        Error::Unreachable {
            server: self.server().to_owned(),
            why,
        }
    }
}

/// Checks a server URL: http(s) with a host.
fn parse_server(server: &str) -> Result<Url, Error> {
    let url = Url::parse(server.trim())
        .map_err(|e| Error::InvalidServer(format!("{server:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(Error::InvalidServer(format!(
            "{server:?} is not an http:// or https:// URL with a host"
        )));
    }
    Ok(url)
}

/// Checks that a path parameter (a name, an id, a host) is a plain name, so none can climb to
/// another path (`../tokens`) or add a query. Every call checks its parameters; a caller that
/// puts a name elsewhere first (a file name) checks it here beforehand.
pub fn check_segment(segment: &str) -> Result<(), Error> {
    let plain = !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment.len() <= 253
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if plain {
        Ok(())
    } else {
        Err(Error::InvalidName(format!(
            "{segment:?} is not a valid name or id: they hold only letters, digits, '-', '_' and '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn client() -> Client {
        Client::new(
            "https://flotilla.example.com/",
            "test",
            Duration::from_secs(1),
        )
        .expect("a client")
    }

    #[test]
    fn path_parameters_fill_the_template_in_order() {
        let url = client()
            .operation_url(&REPORT_ENDPOINT, &["acme", "eu-1", "www.acme.example.com"])
            .expect("a URL");
        assert_eq!(
            url,
            "https://flotilla.example.com/api/v1/accounts/acme/clusters/eu-1/endpoints/www.acme.example.com"
        );
    }

    #[test]
    fn a_parameter_that_would_reach_another_path_is_refused() {
        for bad in ["..", "a/b", "x?y=1", "", "a%2f"] {
            let e = client()
                .operation_url(&GET_CLUSTER, &["acme", bad])
                .expect_err(bad);
            assert!(matches!(e, Error::InvalidName(_)), "{bad}: {e}");
        }
        let e = client()
            .operation_url(&GET_CLUSTER, &["acme"])
            .expect_err("a missing parameter");
        assert!(e.to_string().contains("{cluster}"), "{e}");
    }

    /// A server on 127.0.0.1 that answers one request with `answer`, as a proxy in front of
    /// Flotilla might: the client must not take it for the API's.
    fn answering(answer: &'static str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let _ = stream.read(&mut [0u8; 8192]);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        url
    }

    #[tokio::test]
    async fn an_error_page_is_a_refusal_without_a_problem() {
        let server = answering(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 12\r\n\
             connection: close\r\n\r\n<h1>bad</h1>",
        );
        let client = Client::new(&server, "test", Duration::from_secs(5)).expect("a client");
        let e = client
            .get_cluster("t", "acme", "eu-1")
            .await
            .expect_err("refused");
        assert!(
            matches!(
                e,
                Error::Refused {
                    status: 502,
                    problem: None,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.is_transient());
        assert_eq!(e.to_string(), format!("{server} answered 502"));
    }

    #[tokio::test]
    async fn an_answer_too_large_is_not_read() {
        let server = answering(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n[",
        );
        let client = Client::new(&server, "test", Duration::from_secs(5)).expect("a client");
        let e = client
            .list_clusters("t", "acme")
            .await
            .expect_err("too large");
        assert!(e.to_string().ends_with("with an answer over 32 MiB"), "{e}");
    }

    #[test]
    fn a_server_must_be_an_http_url_with_a_host() {
        for bad in [
            "ftp://flotilla.example.com",
            "not a url",
            "unix:/run/flotilla",
        ] {
            let e = Client::new(bad, "test", Duration::from_secs(1)).expect_err(bad);
            assert!(matches!(e, Error::InvalidServer(_)), "{bad}: {e}");
        }
    }
}
