//! What every test that logs a person in drives: the certified `oidc-provider` (Node) as the
//! company's OpenID provider, a browser (an HTTP client with a cookie jar that follows
//! redirects by hand, so each hop can be checked), and Flotilla configured against them.
//! Over 400 lines because the browser's steps (log-in, consent, sign-up, device page) belong
//! together: each builds on the page the previous one left.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use flotilla_core::db::embedded::free_port;
use flotilla_core::testing::{TestDb, TestServer};
use flotilla_core::AppContext;
use flotilla_server::settings::Settings;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

/// Flotilla's client at the provider.
pub const CLIENT_ID: &str = "flotilla";
/// Its secret there.
pub const CLIENT_SECRET: &str = "provider-client-secret-9f3c";

/// The provider, killed when dropped.
pub struct Provider {
    /// Its issuer URL.
    pub issuer: String,
    _child: Child,
}

impl Provider {
    /// Starts the provider with Flotilla's callback at `redirect`. A start that prints no
    /// ready line within 30 s is killed and tried again (twice): on these small machines a
    /// node process has been seen, rarely, to stall at start-up under a loaded test run.
    pub async fn start(redirect: &str) -> Self {
        let mut logs = Vec::new();
        for _ in 0..3 {
            match Self::start_once(redirect).await {
                Ok(provider) => return provider,
                Err(log) => logs.push(log),
            }
        }
        panic!(
            "the provider did not become ready in 3 tries; its stderr:\n{}",
            logs.join("\n---\n")
        )
    }

    async fn start_once(redirect: &str) -> Result<Self, String> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/oidc-provider/provider.mjs"
        );
        let stderr = tempfile::tempfile().expect("a log file");
        let mut child = Command::new("node")
            .arg(script)
            .env("PORT", "0")
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URIS", redirect)
            .env("EXIT_WITH_STDIN", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr.try_clone().expect("the provider's log")))
            .kill_on_drop(true)
            .spawn()
            .expect(
                "start node tests/oidc-provider/provider.mjs (run scripts/install-test-deps.sh)",
            );
        let stdout = child.stdout.take().expect("the provider's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            _ => {
                let _ = child.kill().await;
                let mut log = String::new();
                let mut file = stderr;
                let _ = std::io::Seek::rewind(&mut file);
                let _ = std::io::Read::read_to_string(&mut file, &mut log);
                eprintln!("the provider printed no ready line within 30 s; its stderr:\n{log}");
                return Err(log);
            }
        };
        let issuer = line
            .strip_prefix("ready ")
            .expect("a `ready <issuer>` line")
            .to_owned();
        Ok(Self {
            issuer,
            _child: child,
        })
    }

    /// Tampers with the next ID token the provider issues.
    pub async fn mischief(&self, claims: serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/__mischief", self.issuer))
            .json(&serde_json::json!({ "id_token": claims }))
            .send()
            .await
            .expect("reach the provider");
        assert_eq!(r.status(), 204);
    }
}

/// Flotilla, with its public URL known before it starts.
pub struct Flotilla {
    /// The server.
    _server: TestServer,
    /// Its context (for looking at the database).
    pub ctx: AppContext,
    /// Its settings (`ctx.config` and the services' own).
    pub settings: Settings,
    /// Its public URL (`http://127.0.0.1:<port>`): the issuer and the CSRF origin.
    pub url: String,
    db: TestDb,
}

impl Flotilla {
    /// Starts Flotilla on a free port with `args` (the public URL is added); `args` may
    /// refer to the port's URL as `{url}`.
    pub async fn start_on(port: u16, args: &[&str]) -> Self {
        Self::start_serving(port, args, true).await
    }

    /// Like [`Flotilla::start_on`], with the background workers only when `workers` (a test
    /// that runs them in another process serves the API alone).
    pub async fn start_serving(port: u16, args: &[&str], workers: bool) -> Self {
        let url = format!("http://127.0.0.1:{port}");
        let mut owned: Vec<String> = args.iter().map(|a| a.replace("{url}", &url)).collect();
        owned.extend(["--public-url".to_owned(), url.clone()]);
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let db = TestDb::new().await;
        let settings = super::app::test_settings(&args);
        let ctx = AppContext::new(settings.config.clone(), db.pool.clone());
        ctx.readiness.set_ready();
        let app = if workers {
            super::app::build_with_workers(&settings, ctx.clone())
        } else {
            super::app::build(&settings, ctx.clone())
        };
        let server = TestServer::start_at(port, app).await;
        Self {
            _server: server,
            ctx,
            settings,
            url,
            db,
        }
    }

    /// A `postgres://` URL of its database, for another process to share.
    pub fn database_url(&self) -> String {
        self.db.url()
    }

    /// Flotilla in development mode (the developer sign-in), without a provider.
    pub async fn dev() -> Self {
        Self::start_on(free_port().expect("a free port"), &["--dev"]).await
    }

    /// Flotilla and a provider wired to each other.
    pub async fn with_provider() -> (Self, Provider) {
        Self::with_provider_and(&[]).await
    }

    /// Flotilla with `args`, and a provider wired to it.
    pub async fn with_provider_and(args: &[&str]) -> (Self, Provider) {
        let port = free_port().expect("a free port");
        let provider = Provider::start(&format!("http://127.0.0.1:{port}/auth/callback")).await;
        let mut all = vec![
            "--oidc-issuer",
            &provider.issuer,
            "--oidc-client-id",
            CLIENT_ID,
            "--oidc-client-secret",
            CLIENT_SECRET,
        ];
        all.extend_from_slice(args);
        let flotilla = Self::start_on(port, &all).await;
        (flotilla, provider)
    }

    /// The absolute URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A browser that has logged in as the developer (development mode only).
    pub async fn developer(&self) -> Browser {
        let mut browser = Browser::new();
        browser.continue_as_developer(&self.url).await;
        browser
    }
}

/// A page as the browser ended up on it.
#[derive(Debug)]
pub struct Page {
    /// The final URL.
    pub url: Url,
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: String,
    /// Every URL visited on the way (redirects included).
    pub trail: Vec<String>,
}

impl Page {
    /// The first form action on the page.
    pub fn form_action(&self) -> String {
        let start = self.body.find("action=\"").expect("a form on the page") + 8;
        let end = self.body[start..].find('"').expect("a closed action") + start;
        self.body[start..end].replace("&amp;", "&")
    }
}

/// An HTTP client with a cookie jar (per host:port, by name; paths and `Secure` are ignored,
/// which only ever sends more than a browser would) and hand-followed redirects.
pub struct Browser {
    client: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
    /// Every `Set-Cookie` value received, for the tests that check cookie attributes.
    pub set_cookies: Vec<String>,
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            jar: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    fn origin(url: &Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        )
    }

    /// The cookie `name` of `url`'s host, if held.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = Url::parse(url).expect("a URL");
        self.jar.get(&Self::origin(&url))?.get(name).cloned()
    }

    fn cookie_header(&self, url: &Url) -> String {
        self.jar
            .get(&Self::origin(url))
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    fn store(&mut self, url: &Url, headers: &HeaderMap) {
        let jar = self.jar.entry(Self::origin(url)).or_default();
        for value in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            self.set_cookies.push(value.to_owned());
            let pair = value.split(';').next().unwrap_or("");
            let Some((name, v)) = pair.split_once('=') else {
                continue;
            };
            let removed = value.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), v.to_owned());
            }
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, url: &Url) -> Response {
        let request = request.header("cookie", self.cookie_header(url));
        let response = request.send().await.expect("the request is answered");
        self.store(url, response.headers());
        response
    }

    /// GETs `url` and follows redirects (up to 15) within any host.
    pub async fn get(&mut self, url: &str) -> Page {
        self.follow(url, Vec::new()).await
    }

    /// GETs `url` without following a redirect.
    pub async fn get_once(&mut self, url: &str) -> Response {
        let parsed = Url::parse(url).expect("a URL");
        let request = self.client.get(parsed.clone());
        self.send(request, &parsed).await
    }

    async fn follow(&mut self, url: &str, mut trail: Vec<String>) -> Page {
        let mut url = Url::parse(url).expect("a URL");
        for _ in 0..15 {
            trail.push(url.to_string());
            let response = self.get_once(url.as_str()).await;
            if response.status().is_redirection() {
                let location = response.headers()[LOCATION]
                    .to_str()
                    .expect("a Location")
                    .to_owned();
                url = url.join(&location).expect("a valid Location");
                // Loopback "apps" (the CLI) are not listening in these tests: stop there.
                if url.port() == Some(9) {
                    trail.push(url.to_string());
                    return Page {
                        url,
                        status: response.status(),
                        body: String::new(),
                        trail,
                    };
                }
                continue;
            }
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Page {
                url,
                status,
                body,
                trail,
            };
        }
        panic!("too many redirects: {trail:?}");
    }

    /// POSTs a form to `url` with `Origin: origin`, then follows redirects.
    pub async fn submit(&mut self, url: &str, fields: &[(&str, &str)], origin: &str) -> Page {
        let response = self.post_form(url, fields, Some(origin)).await;
        let parsed = Url::parse(url).expect("a URL");
        if response.status().is_redirection() {
            let location = response.headers()[LOCATION]
                .to_str()
                .expect("a Location")
                .to_owned();
            let next = parsed.join(&location).expect("a valid Location");
            if next.port() == Some(9) {
                let trail = vec![url.to_owned(), next.to_string()];
                return Page {
                    url: next,
                    status: response.status(),
                    body: String::new(),
                    trail,
                };
            }
            return self.follow(next.as_str(), vec![url.to_owned()]).await;
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Page {
            url: parsed,
            status,
            body,
            trail: vec![url.to_owned()],
        }
    }

    /// POSTs a form without following redirects.
    pub async fn post_form(
        &mut self,
        url: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let parsed = Url::parse(url).expect("a URL");
        let mut request = self.client.post(parsed.clone()).form(fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request, &parsed).await
    }

    /// A JSON request with the jar's cookies and `Origin: origin`.
    pub async fn json(
        &mut self,
        method: reqwest::Method,
        url: &str,
        body: Option<serde_json::Value>,
        origin: Option<&str>,
    ) -> Response {
        let parsed = Url::parse(url).expect("a URL");
        let mut request = self.client.request(method, parsed.clone());
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request, &parsed).await
    }

    /// Answers the consent page whose HTML is `consent`, from the Flotilla at `base` (its
    /// public URL), with `decision` (`allow` or `deny`); where the browser ends up.
    pub async fn decide_at(&mut self, base: &str, consent: &str, decision: &str) -> Page {
        let mut fields = hidden_fields(consent);
        fields.push(("decision".into(), decision.into()));
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.submit(&format!("{base}/oauth/authorize"), &fields, base)
            .await
    }

    /// Logs in at the Flotilla at `base` (development mode) with "Continue as developer", as
    /// a person does from its log-in page; where the browser lands.
    pub async fn continue_as_developer(&mut self, base: &str) -> Page {
        let page = self.get(&format!("{base}/login")).await;
        assert!(page.body.contains("Continue as developer"), "{}", page.body);
        let landed = self
            .submit(&format!("{base}/login/dev"), &[("return_to", "/")], base)
            .await;
        assert_eq!(landed.status, 200, "{}", landed.body);
        landed
    }

    /// Signs up for the account `name` through the API (the session's person owns it).
    pub async fn create_account(&mut self, flotilla: &str, name: &str) {
        let r = self
            .json(
                reqwest::Method::POST,
                &format!("{flotilla}/api/v1/accounts"),
                Some(serde_json::json!({ "name": name })),
                Some(flotilla),
            )
            .await;
        assert_eq!(r.status(), 201, "sign up for {name}");
    }

    /// Creates an API token of `account` with `role`, valid for `days`; returns the answer.
    pub async fn create_token(
        &mut self,
        flotilla: &str,
        account: &str,
        role: &str,
        days: i64,
    ) -> serde_json::Value {
        let expires = (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
        let r = self
            .json(
                reqwest::Method::POST,
                &format!("{flotilla}/api/v1/accounts/{account}/tokens"),
                Some(serde_json::json!({ "name": "t", "role": role, "expires_at": expires })),
                Some(flotilla),
            )
            .await;
        assert_eq!(r.status(), 201, "create a token of {account}");
        r.json().await.expect("JSON")
    }

    /// Signs up for `account` and creates an owner's API token of it, valid for a day; the
    /// token's secret.
    pub async fn account_with_owner_token(&mut self, flotilla: &str, account: &str) -> String {
        self.create_account(flotilla, account).await;
        self.create_token(flotilla, account, "owner", 1).await["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// Logs in at the provider as `login` starting from Flotilla's `/login`; returns the page
    /// the browser lands on back at Flotilla.
    pub async fn log_in(&mut self, flotilla: &str, login: &str) -> Page {
        let form = self.get(&format!("{flotilla}/login")).await;
        assert!(
            form.body.contains("name=\"login\""),
            "the provider's log-in form: {}",
            form.body
        );
        let consent = self
            .submit(
                &form.form_action(),
                &[("login", login), ("password", "x")],
                "null",
            )
            .await;
        assert!(
            consent.body.contains("/confirm"),
            "the provider's consent form: {}",
            consent.body
        );
        self.submit(&consent.form_action(), &[("confirm", "yes")], "null")
            .await
    }
}

/// Starts a log-in at the provider and stops at Flotilla's callback URL (not visited).
pub async fn callback_url(browser: &mut Browser, flotilla: &str, login: &str) -> String {
    let form = browser.get(&format!("{flotilla}/login")).await;
    let consent = browser
        .submit(&form.form_action(), &[("login", login)], "null")
        .await;
    let confirmed = browser
        .post_form(&consent.form_action(), &[("confirm", "yes")], Some("null"))
        .await;
    let mut url = Url::parse(&consent.form_action()).expect("a URL");
    let mut response = confirmed;
    for _ in 0..10 {
        let location = response.headers()[LOCATION]
            .to_str()
            .expect("a Location")
            .to_owned();
        url = url.join(&location).expect("a valid Location");
        if url
            .as_str()
            .starts_with(&format!("{flotilla}/auth/callback"))
        {
            return url.to_string();
        }
        response = browser.get_once(url.as_str()).await;
    }
    panic!("never reached the callback");
}

/// The hidden fields of a page's form (name, value).
fn hidden_fields(body: &str) -> Vec<(String, String)> {
    body.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|chunk| {
            let name = chunk.split("name=\"").nth(1)?.split('"').next()?;
            let value = chunk.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                value.replace("&amp;", "&").replace("&quot;", "\""),
            ))
        })
        .collect()
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
