//! What a platform engineer does with the CLI after `configure`: register a cluster from a
//! kubeconfig with a generated identity CA, get its kubeconfig, get audience-bound tokens for
//! it, survive an expired access token, use registration tokens, and log out.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::support::cli::*;
use crate::support::oidc::Flotilla;
use crate::support::pki::{fingerprint, Alg, Ca};

/// The claims of `token` after checking its ES256 signature with Flotilla's published keys.
async fn verified_claims(flotilla: &Flotilla, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(flotilla.at("/.well-known/jwks.json"))
        .await
        .expect("the JWKS")
        .json()
        .await
        .expect("a JWK set");
    let jwk = jwks
        .find(header.kid.as_deref().expect("a kid"))
        .expect("the signing key is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&flotilla.url]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies against the JWKS with that audience")
        .claims
}

/// The lines of `printed` between `heading` (and the blank line after it) and the next blank
/// line: a block of commands to paste.
fn block_after(printed: &str, heading: &str) -> String {
    let start = printed
        .find(&format!("{heading}\n\n"))
        .unwrap_or_else(|| panic!("{heading:?} is not printed:\n{printed}"))
        + heading.len()
        + 2;
    let rest = &printed[start..];
    rest[..rest.find("\n\n").unwrap_or(rest.len())]
        .trim_end()
        .to_owned()
}

/// Pastes `commands` into `sh -e` in a fresh directory holding `deploy/agent/`, with a
/// `kubectl` that only records its arguments: what kubectl was asked, one call a line, and
/// the `deploy/agent/agent.env` the commands wrote.
fn paste(commands: &str) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("deploy/agent")).expect("mkdir");
    std::fs::create_dir(d.join("bin")).expect("mkdir");
    let kubectl = d.join("bin/kubectl");
    std::fs::write(&kubectl, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$CALLS\"\n").expect("write");
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        d.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-e", "-c", commands])
        .current_dir(d)
        .env("PATH", path)
        .env("CALLS", d.join("calls"))
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{commands}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(d.join("calls")).expect("kubectl was called");
    let env = std::fs::read_to_string(d.join("deploy/agent/agent.env")).expect("agent.env");
    (calls.lines().map(str::to_owned).collect(), env)
}

/// `GET path` of the API with the access token the CLI saved in `home`: what `-o json` must
/// print.
async fn as_saved(flotilla: &Flotilla, home: &Path, path: &str) -> Value {
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(home.join(".flotilla/credentials.json")).expect("read"),
    )
    .expect("JSON");
    let r = reqwest::Client::new()
        .get(flotilla.at(path))
        .bearer_auth(saved["access_token"].as_str().expect("an access token"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("JSON")
}

#[tokio::test]
async fn register_a_cluster_get_its_kubeconfig_and_tokens_for_it_then_log_out() {
    let (flotilla, _provider, mut browser) = alice().await;
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    configure_in_browser(&flotilla, &mut browser, h).await;

    // Register from a kubeconfig, with an identity CA generated here.
    let api_ca = Ca::root("eu API server CA", Alg::P256);
    let kubeconfig = h.join("eu.kubeconfig");
    std::fs::write(
        &kubeconfig,
        cluster_kubeconfig("https://203.0.113.10:6443", &api_ca),
    )
    .expect("write");
    let out_dir = h.join("eu-ca");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let kc = kubeconfig.to_str().expect("UTF-8");
    let od = out_dir.to_str().expect("UTF-8");
    let printed = ok(
        h,
        &[
            "register-cluster",
            "--name",
            "eu-1",
            "--region",
            "eu-west-1",
            "--generate-identity-ca",
            "--kubeconfig",
            kc,
            "--out-dir",
            od,
        ],
    )
    .await;
    assert!(
        printed.contains("SPIFFE prefix:        spiffe://eu-1/"),
        "{printed}"
    );
    assert!(
        printed.contains("kind: TrustedIdentityProvider")
            && printed.contains("admiraltyReference:\n    clusterName: eu-1"),
        "{printed}"
    );
    let key_file = out_dir.join("eu-1-identity-ca.key");
    let secret_file = out_dir.join("eu-1-identity-ca-secret.yaml");
    // How to install its agent: the CA's Secret (in the agent's namespace, made first), then
    // the agent configured for this Flotilla, account and cluster.
    let install = block_after(
        &printed,
        "Install the agent in the cluster (kubectl pointing at it, from a clone of Flotilla):",
    );
    assert_eq!(
        install,
        format!(
            "kubectl create namespace admiralty\n\
             kubectl apply -f {}\n\
             cat > deploy/agent/agent.env <<'EOF'\n\
             FLOTILLA_URL={}\n\
             FLOTILLA_ACCOUNT=acme\n\
             FLOTILLA_CLUSTER=eu-1\n\
             EOF\n\
             kubectl apply -k deploy/agent",
            secret_file.display(),
            flotilla.url
        )
    );
    let (calls, env) = paste(&install);
    assert_eq!(
        calls,
        [
            "create namespace admiralty".to_owned(),
            format!("apply -f {}", secret_file.display()),
            "apply -k deploy/agent".to_owned(),
        ]
    );
    assert_eq!(
        env,
        format!(
            "FLOTILLA_URL={}\nFLOTILLA_ACCOUNT=acme\nFLOTILLA_CLUSTER=eu-1\n",
            flotilla.url
        )
    );
    assert_eq!((mode(&key_file), mode(&secret_file)), (0o600, 0o600));
    let key = std::fs::read_to_string(&key_file).expect("the key");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
    // The certificate in the Secret is the one Flotilla now trusts for eu-1.
    let secret = std::fs::read_to_string(&secret_file).expect("the Secret");
    let crt = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("tls.crt: "))
        .expect("tls.crt");
    let pem = String::from_utf8(STANDARD.decode(crt).expect("base64")).expect("PEM");
    let der = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .expect("a PEM certificate")
        .1
        .contents;
    let cluster: Value =
        serde_json::from_str(&ok(h, &["clusters", "get", "eu-1", "-o", "json"]).await)
            .expect("JSON");
    assert_eq!(cluster["identity_cas"][0]["sha256"], fingerprint(&der));
    assert_eq!(cluster["server"], "https://203.0.113.10:6443");
    assert_eq!(cluster["server_ca"]["sha256"], fingerprint(&api_ca.der()));
    assert_eq!(cluster["labels"]["region"], "eu-west-1");
    // `-o json` prints the API's answer whole, as the API gives it.
    assert_eq!(
        cluster,
        as_saved(&flotilla, h, "/api/v1/accounts/acme/clusters/eu-1").await
    );
    let listed: Value =
        serde_json::from_str(&ok(h, &["clusters", "list", "-o", "json"]).await).expect("JSON");
    assert_eq!(
        listed,
        as_saved(&flotilla, h, "/api/v1/accounts/acme/clusters").await
    );
    let yaml = ok(h, &["clusters", "get", "eu-1", "-o", "yaml"]).await;
    assert!(
        yaml.starts_with("account: acme\n") && yaml.contains("\nspiffe_prefix: spiffe://eu-1/\n"),
        "{yaml}"
    );
    let table = ok(h, &["clusters", "list"]).await;
    assert!(
        table.starts_with("NAME") && table.contains("eu-1") && table.contains("eu-west-1"),
        "{table}"
    );
    // The key is never overwritten.
    let (code, err) = fails(
        h,
        &[
            "register-cluster",
            "--name",
            "eu-1",
            "--generate-identity-ca",
            "--kubeconfig",
            kc,
            "--out-dir",
            od,
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");

    // Its kubeconfig, accepted by kubectl, whose user asks the CLI for a token.
    let generated = ok(h, &["get-cluster-kubeconfig", "--cluster", "eu-1"]).await;
    let file = h.join("eu-1.kubeconfig");
    std::fs::write(&file, &generated).expect("write");
    let view = kubectl_view(&file);
    assert_eq!(view["current-context"], "eu-1");
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        "https://203.0.113.10:6443"
    );
    assert_eq!(
        view["clusters"][0]["cluster"]["certificate-authority-data"],
        STANDARD.encode(api_ca.pem())
    );
    let exec = &view["users"][0]["user"]["exec"];
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(
        exec["args"],
        serde_json::json!(["exec-credential", "--cluster", "eu-1", "--account", "acme"])
    );

    // The token kubectl would get: an ExecCredential whose token is bound to eu-1.
    let credential: Value =
        serde_json::from_str(&ok(h, &["exec-credential", "--cluster", "eu-1"]).await)
            .expect("JSON");
    assert_eq!(credential["kind"], "ExecCredential");
    assert_eq!(credential["apiVersion"], "client.authentication.k8s.io/v1");
    let expires = chrono::DateTime::parse_from_rfc3339(
        credential["status"]["expirationTimestamp"]
            .as_str()
            .expect("a time"),
    )
    .expect("RFC 3339");
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(5),
        "{credential}"
    );
    let token = credential["status"]["token"].as_str().expect("a token");
    let audience = flotilla.at("/clusters/acme/eu-1");
    let claims = verified_claims(&flotilla, token, &audience).await;
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["groups"], serde_json::json!(["owner"]));
    // It is not a key to Flotilla's own API.
    let r = reqwest::Client::new()
        .get(flotilla.at("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me");
    assert_eq!(r.status(), 401);
    // No token for a cluster that is not there.
    let (code, err) = fails(h, &["exec-credential", "--cluster", "nope"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no cluster \"nope\""), "{err}");

    // An expired access token is refreshed silently, and the new pair saved.
    let credentials_file = h.join(".flotilla/credentials.json");
    let mut saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&credentials_file).expect("read"))
            .expect("JSON");
    let before = saved.clone();
    saved["expires_at"] = 0.into();
    std::fs::write(&credentials_file, saved.to_string()).expect("write");
    let credential: Value = serde_json::from_str(&ok(h, &["exec-credential"]).await).expect("JSON");
    let after: Value =
        serde_json::from_str(&std::fs::read_to_string(&credentials_file).expect("read"))
            .expect("JSON");
    assert_ne!(after["refresh_token"], before["refresh_token"], "rotated");
    assert_ne!(after["access_token"], before["access_token"]);
    assert_eq!(credential["status"]["token"], after["access_token"]);
    assert_eq!(mode(&credentials_file), 0o600);
    let api_claims = verified_claims(
        &flotilla,
        after["access_token"].as_str().expect("a token"),
        &flotilla.at("/api"),
    )
    .await;
    assert_eq!(api_claims["iss"], flotilla.url.as_str());

    // Log out: the refresh token is useless after, and the local tokens are gone.
    let refresh = after["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let access = after["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    ok(h, &["logout"]).await;
    assert!(!credentials_file.exists());
    let r = reqwest::Client::new()
        .post(flotilla.at("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "flotilla-cli"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.expect("JSON");
    assert_eq!(error["error"], "invalid_grant");
    let r = reqwest::Client::new()
        .get(flotilla.at("/api/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    assert_eq!(r.status(), 401, "the grant's access tokens die with it");
    let (code, err) = fails(h, &["clusters", "list"]).await;
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.trim(), "error: not logged in: run `flotilla configure`");
}

#[tokio::test]
async fn registration_tokens_register_clusters_without_a_log_in_and_errors_have_exit_codes() {
    let (flotilla, _provider, mut browser) = alice().await;
    let admin = tempfile::tempdir().expect("tempdir");
    configure_in_browser(&flotilla, &mut browser, admin.path()).await;
    let out = flotilla_output(
        admin.path(),
        &[
            "registration-tokens",
            "create",
            "--description",
            "us clusters",
            "--labels",
            "tier=prod",
        ],
    )
    .await;
    let token = out.0.trim().to_owned();
    assert!(token.starts_with("flreg_"), "{out:?}");
    assert_eq!(out.0, format!("{token}\n"), "the secret alone on stdout");
    assert!(
        out.1.contains(&format!(
            "\n  flotilla register-cluster --server {} --account acme --registration-token {token} --name <cluster> --generate-identity-ca\n",
            flotilla.url
        )),
        "the command that uses it: {}",
        out.1
    );
    // Or the agent, which registers the cluster with it: the token in the Secret it waits
    // for, in its namespace, and the agent configured for this Flotilla and account.
    let install = block_after(
        &out.1,
        "Install the agent in the cluster, which registers it with this token:",
    );
    assert_eq!(
        install,
        format!(
            "kubectl create namespace admiralty\n\
             kubectl -n admiralty create secret generic flotilla-registration-token --from-literal=token={token}\n\
             cat > deploy/agent/agent.env <<'EOF'\n\
             FLOTILLA_URL={}\n\
             FLOTILLA_ACCOUNT=acme\n\
             FLOTILLA_CLUSTER=<cluster>\n\
             EOF\n\
             kubectl apply -k deploy/agent",
            flotilla.url
        )
    );
    let (calls, env) = paste(&install);
    assert_eq!(
        calls,
        [
            "create namespace admiralty".to_owned(),
            format!("-n admiralty create secret generic flotilla-registration-token --from-literal=token={token}"),
            "apply -k deploy/agent".to_owned(),
        ]
    );
    assert_eq!(
        env,
        format!(
            "FLOTILLA_URL={}\nFLOTILLA_ACCOUNT=acme\nFLOTILLA_CLUSTER=<cluster>\n",
            flotilla.url
        )
    );
    // Listed without its secret, `-o json` as the API gives it.
    let listed: Value = serde_json::from_str(
        &ok(admin.path(), &["registration-tokens", "list", "-o", "json"]).await,
    )
    .expect("JSON");
    assert_eq!(
        listed,
        as_saved(
            &flotilla,
            admin.path(),
            "/api/v1/accounts/acme/registration-tokens"
        )
        .await
    );
    assert_eq!(listed[0]["labels"]["tier"], "prod");

    // Another machine, never logged in: the token, the server and the account suffice.
    let machine = tempfile::tempdir().expect("tempdir");
    let m = machine.path();
    let api_ca = Ca::root("us API server CA", Alg::P256);
    let identity = Ca::root("us-1 identity CA", Alg::P384);
    std::fs::write(
        m.join("kubeconfig"),
        cluster_kubeconfig("https://198.51.100.4:6443", &api_ca),
    )
    .expect("write");
    std::fs::write(m.join("ca.crt"), identity.pem()).expect("write");
    let kc = m.join("kubeconfig");
    let ca = m.join("ca.crt");
    let args = [
        "register-cluster",
        "--server",
        &flotilla.url,
        "--account",
        "acme",
        "--registration-token",
        &token,
        "--name",
        "us-1",
        "--identity-ca",
        ca.to_str().expect("UTF-8"),
        "--kubeconfig",
        kc.to_str().expect("UTF-8"),
        "-o",
        "json",
    ];
    let registered: Value = serde_json::from_str(&ok(m, &args).await).expect("JSON");
    assert_eq!(registered["outcome"], "created");
    assert_eq!(registered["labels"]["tier"], "prod");
    assert_eq!(
        registered["identity_cas"][0]["sha256"],
        fingerprint(&identity.der())
    );
    // An admin registers another with that CA: the agent's CA Secret is made from the
    // certificate given and its key, which only the person has.
    let printed = ok(
        admin.path(),
        &[
            "register-cluster",
            "--name",
            "us-3",
            "--identity-ca",
            ca.to_str().expect("UTF-8"),
            "--kubeconfig",
            kc.to_str().expect("UTF-8"),
        ],
    )
    .await;
    let install = block_after(
        &printed,
        "Install the agent in the cluster (kubectl pointing at it, from a clone of Flotilla):",
    );
    let lines: Vec<&str> = install.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "kubectl create namespace admiralty",
            format!(
                "kubectl -n admiralty create secret tls flotilla-identity-ca --cert={} --key=<identity-ca-key-file>",
                ca.display()
            )
            .as_str(),
            "cat > deploy/agent/agent.env <<'EOF'",
        ],
        "{install}"
    );
    assert!(install.contains("\nFLOTILLA_CLUSTER=us-3\n"), "{install}");
    ok(admin.path(), &["clusters", "delete", "us-3"]).await;

    // Used up (one use): refused, exit 3.
    let mut again = args.to_vec();
    again[8] = "us-2";
    let (code, err) = fails(m, &again).await;
    assert_eq!(code, 3, "{err}");

    // Deregistered: gone.
    ok(admin.path(), &["clusters", "delete", "us-1"]).await;
    let (code, err) = fails(admin.path(), &["clusters", "get", "us-1"]).await;
    assert_eq!(code, 1, "{err}");

    // Exit codes: usage 2 (a name that would reach another path among them), refused 1,
    // unreachable 4, not logged in 3.
    let (code, err) = fails(admin.path(), &["clusters", "get", "../tokens"]).await;
    assert_eq!(code, 2, "{err}");
    let (code, _) = fails(m, &["register-cluster", "--name", "x"]).await;
    assert_eq!(code, 2);
    // A name is checked before it names the generated CA's files, and before any log-in.
    let (code, err) = fails(
        m,
        &[
            "register-cluster",
            "--name",
            "../escaped",
            "--generate-identity-ca",
            "--kubeconfig",
            kc.to_str().expect("UTF-8"),
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(!m.join("../escaped-identity-ca.key").exists(), "{err}");
    // Not logged in: refused before a CA is generated, so the next try is not refused for
    // the files this one left.
    let (code, err) = fails(
        m,
        &[
            "register-cluster",
            "--name",
            "us-9",
            "--generate-identity-ca",
            "--kubeconfig",
            kc.to_str().expect("UTF-8"),
        ],
    )
    .await;
    assert_eq!(code, 3, "{err}");
    assert!(!m.join("us-9-identity-ca.key").exists(), "{err}");
    let (code, err) = fails(admin.path(), &["clusters", "get", "nope"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.trim().lines().count() == 1,
        "one line: {err}"
    );
    let (code, err) = fails(
        m,
        &[
            "register-cluster",
            "--server",
            "http://127.0.0.1:9",
            "--account",
            "acme",
            "--registration-token",
            "flreg_x",
            "--name",
            "z",
            "--identity-ca",
            ca.to_str().expect("UTF-8"),
            "--kubeconfig",
            kc.to_str().expect("UTF-8"),
        ],
    )
    .await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("cannot reach http://127.0.0.1:9"), "{err}");
    let (code, _) = fails(m, &["get-account-name"]).await;
    assert_eq!(code, 3);

    // Tokens: created (secret shown once), listed without it, revoked.
    let created: Value = serde_json::from_str(
        &ok(
            admin.path(),
            &[
                "tokens", "create", "--name", "ci", "--role", "viewer", "-o", "json",
            ],
        )
        .await,
    )
    .expect("JSON");
    let id = created["id"].as_str().expect("an id");
    assert_eq!(created["role"], "viewer");
    let (code, err) = fails(
        admin.path(),
        &["tokens", "create", "--name", "x", "--role", "root"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    // An API token is not a person: no cluster token for it.
    let r = reqwest::Client::new()
        .post(flotilla.at("/oauth/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", "flotilla-cli"),
            ("subject_token", created["token"].as_str().expect("a token")),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("audience", &flotilla.at("/clusters/acme/us-1")),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.expect("JSON");
    assert_eq!(error["error"], "invalid_request", "{error}");
    let listed = ok(admin.path(), &["tokens", "list", "-o", "yaml"]).await;
    assert!(
        listed.contains(id) && !listed.contains(created["token"].as_str().expect("a token")),
        "{listed}"
    );
    ok(admin.path(), &["tokens", "revoke", id]).await;
    let listed: Value =
        serde_json::from_str(&ok(admin.path(), &["tokens", "list", "-o", "json"]).await)
            .expect("JSON");
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");
}

/// stdout and stderr of a successful run.
async fn flotilla_output(home: &Path, args: &[&str]) -> (String, String) {
    let out = flotilla(home, args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
