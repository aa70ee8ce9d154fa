//! The README's "Your first cluster", followed as a new user would: the real server in
//! development mode on its embedded Postgres, the developer sign-in and sign-up in a browser,
//! then every line of the README's walkthrough block, run as written (the server's URL
//! aside). A line this test does not know how to follow fails it, so the README cannot
//! change without the walkthrough being walked again.

use std::time::Duration;

use crate::support::cli::{self, configure_allowing, kubectl_view, ok};
use crate::support::oidc::Browser;
use crate::support::server_binary::start_ready;
use crate::support::workspace::repo;

/// The shell lines between the walkthrough markers, without their comments.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let begin = readme
        .find("<!-- walkthrough:begin")
        .expect("README.md has a walkthrough:begin marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("README.md has a walkthrough:end marker");
    let block = &readme[begin..end];
    let body = block
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a ```sh block between the markers")
        .0;
    body.lines()
        .map(|line| line.split("  #").next().unwrap_or("").trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// A kubeconfig whose current context is a cluster, as `kind create cluster --name eu-1`
/// leaves it (the walkthrough's prerequisite).
const KIND_KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: kind-eu-1
  cluster:
    server: https://127.0.0.1:41234
    certificate-authority-data: CA_DATA
users:
- name: kind-eu-1
  user:
    token: kind-secret
contexts:
- name: kind-eu-1
  context:
    cluster: kind-eu-1
    user: kind-eu-1
current-context: kind-eu-1
";

#[tokio::test]
async fn a_new_user_follows_the_readme_to_a_registered_cluster() {
    let lines = walkthrough();
    assert!(lines.len() >= 4, "{lines:?}");

    // 1. `cargo run -p flotilla-server -- --dev`: the real binary, embedded Postgres in a
    //    fresh directory. Another port than 8080, so that the test runs anywhere.
    let work = tempfile::tempdir().expect("tempdir");
    let port = flotilla_core::db::embedded::free_port().expect("a free port");
    let base = format!("http://localhost:{port}");
    let mut server = start_ready(
        work.path(),
        &["--dev"],
        &[
            ("FLOTILLA_LISTEN", &format!("127.0.0.1:{port}")),
            ("FLOTILLA_PUBLIC_URL", &base),
        ],
    )
    .await;
    assert!(work.path().join(".flotilla/postgres").is_dir(), "embedded");

    // 2. The browser: "Continue as developer", then the sign-up page, then the console.
    let mut browser = Browser::new();
    let login = browser.get(&format!("{base}/")).await;
    assert!(
        login.body.contains("Continue as developer"),
        "{}",
        login.body
    );
    let landed = browser.continue_as_developer(&base).await;
    assert_eq!(landed.url.path(), "/signup", "{:?}", landed.trail);
    browser.create_account(&base, "acme").await;
    let console = browser.get(&format!("{base}/")).await;
    assert_eq!(console.url.path(), "/console/acme", "{:?}", console.trail);

    // 3. The terminal, line by line.
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let (api_ca, _) = crate::support::fleet::identity("kind-eu-1");
    let kube = home.join(".kube");
    std::fs::create_dir_all(&kube).expect("~/.kube");
    std::fs::write(
        kube.join("config"),
        KIND_KUBECONFIG.replace(
            "CA_DATA",
            &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, api_ca.pem()),
        ),
    )
    .expect("write the kubeconfig");
    let mut printed = String::new();
    let mut namespace_created = false;
    for line in &lines {
        let line = line.replace("http://localhost:8080", &base);
        if line.starts_with("cargo build -p flotilla-cli") {
            // scripts/test.sh built it; this finds it (or says how to build it).
            cli::binary();
            continue;
        }
        if line == "kubectl create namespace admiralty" {
            // No cluster here: the namespace the Secret manifest names must be that one.
            namespace_created = true;
            continue;
        }
        if let Some(file) = line.strip_prefix("kubectl apply -f ") {
            // No cluster here: the manifest must exist and be the agent's Secret.
            let manifest = std::fs::read_to_string(home.join(file))
                .unwrap_or_else(|e| panic!("{line}: {file}: {e}"));
            assert!(
                manifest.contains("kind: Secret") && manifest.contains("tls.key"),
                "{manifest}"
            );
            assert!(
                namespace_created && manifest.contains("namespace: admiralty"),
                "{line}: its namespace is created first: {manifest}"
            );
            continue;
        }
        let Some(command) = line.strip_prefix("flotilla ") else {
            panic!("the README's walkthrough has a line this test cannot follow: {line}");
        };
        let (command, into) = match command.split_once(" > ") {
            Some((command, file)) => (command, Some(file.trim())),
            None => (command, None),
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        if args.first() == Some(&"configure") {
            configure_allowing(home, &args, &mut browser, &base).await;
            continue;
        }
        let out = ok(home, &args).await;
        match into {
            Some(file) => std::fs::write(home.join(file), &out).expect("write"),
            None => printed.push_str(&out),
        }
    }

    // What the README promises.
    assert!(printed.contains("acme\n"), "get-account-name: {printed}");
    assert!(
        printed.contains("spiffe://eu-1/") && printed.contains("kind: TrustedIdentityProvider"),
        "register-cluster: {printed}"
    );
    let listed = printed
        .lines()
        .find(|l| l.starts_with("eu-1"))
        .unwrap_or_else(|| panic!("clusters list shows eu-1: {printed}"));
    assert!(
        listed.contains("offline") && listed.contains("eu-west-1"),
        "{listed}"
    );
    assert!(home.join("eu-1-identity-ca.key").is_file());
    let view = kubectl_view(&home.join("eu-1.kubeconfig"));
    assert_eq!(view["current-context"], "eu-1");
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        "https://127.0.0.1:41234"
    );
    // And the console's data shows the cluster.
    let clusters = browser
        .get(&format!("{base}/api/v1/accounts/acme/clusters"))
        .await;
    assert!(clusters.body.contains("\"eu-1\""), "{}", clusters.body);

    server.signal(nix::sys::signal::Signal::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(60)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "stops cleanly:\n{}",
        server.logs()
    );
}
