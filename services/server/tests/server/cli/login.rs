//! `flotilla configure` through the browser (loopback redirect) and the device flow, and what
//! it leaves behind: private files, the account, a kubeconfig context that keeps the others.

use std::os::unix::fs::PermissionsExt;

use crate::support::cli::*;
use crate::support::oidc::{Browser, Flotilla};

/// Reads the code the CLI prints and approves it on the device page as `browser`.
async fn approve_device(cli: &mut Running, browser: &mut Browser, flotilla: &Flotilla) {
    cli.line_containing("and enter the code").await;
    cli.line_containing("").await;
    let code = cli.line_containing("-").await.trim().to_owned();
    assert_eq!(code.len(), 9, "a code like BCDF-GHJK: {code:?}");
    let done = browser
        .submit(
            &flotilla.at("/device"),
            &[("user_code", &code), ("decision", "approve")],
            &flotilla.url,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
}

const OTHER_KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: kind-other
  cluster:
    server: https://127.0.0.1:6443
users:
- name: kind-other
  user:
    token: other-secret
contexts:
- name: kind-other
  context:
    cluster: kind-other
    user: kind-other
current-context: kind-other
";

#[tokio::test]
async fn configure_in_the_browser_saves_private_files_and_a_kubeconfig_context() {
    let (flotilla, _provider, mut browser) = alice().await;
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = home.path().join(".kube/config");
    std::fs::create_dir_all(kubeconfig.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&kubeconfig, OTHER_KUBECONFIG).expect("write");

    let log = configure_in_browser(&flotilla, &mut browser, home.path()).await;
    assert!(log.contains("as alice@example.com; account acme"), "{log}");

    // Private files, the account, and the kubeconfig with both contexts.
    let dir = home.path().join(".flotilla");
    assert_eq!(mode(&dir), 0o700);
    for file in ["config.json", "credentials.json"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(ok(home.path(), &["get-account-name"]).await, "acme\n");
    assert_eq!(mode(&kubeconfig), 0o600);
    let view = kubectl_view(&kubeconfig);
    assert_eq!(
        view["current-context"], "kind-other",
        "the current context is kept"
    );
    let mut names: Vec<&str> = view["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["flotilla", "kind-other"]);
    let user = view["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == "flotilla-user")
        .expect("the flotilla user");
    assert_eq!(user["user"]["exec"]["args"][0], "exec-credential");
    let text = std::fs::read_to_string(&kubeconfig).expect("read");
    assert!(text.contains("other-secret"), "the other user is untouched");

    // The saved log-in works, and a second `configure` replaces it (revoking the first).
    let clusters = ok(home.path(), &["clusters", "list", "-o", "json"]).await;
    assert_eq!(clusters.trim(), "[]");
    let saved = std::fs::read_to_string(dir.join("credentials.json")).expect("read");
    let first: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    configure_in_browser(&flotilla, &mut browser, home.path()).await;
    let r = reqwest::Client::new()
        .post(flotilla.at("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "flotilla-cli"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("a refresh token"),
            ),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400, "the replaced log-in is revoked");
    assert_eq!(ok(home.path(), &["get-account-name"]).await, "acme\n");
}

#[tokio::test]
async fn configure_with_the_device_flow() {
    let (flotilla, _provider, mut browser) = alice().await;
    // A second account: the CLI must be told which one.
    browser.create_account(&flotilla.url, "acme-staging").await;
    let home = tempfile::tempdir().expect("tempdir");
    let args = [
        "configure",
        "--device",
        "--server",
        &flotilla.url,
        "--no-kubeconfig",
    ];
    let mut cli = Running::start(home.path(), &args);
    let uri = cli.line_containing("/device").await;
    assert_eq!(uri.trim(), flotilla.at("/device"));
    // The person approves on the device page.
    approve_device(&mut cli, &mut browser, &flotilla).await;
    let (status, log) = cli.finish().await;
    assert_eq!(
        status.code(),
        Some(2),
        "several accounts and no --account: {log}"
    );
    assert!(
        log.contains("choose one with --account") && log.contains("acme, acme-staging"),
        "{log}"
    );
    assert!(
        !home.path().join(".flotilla/credentials.json").exists(),
        "nothing saved"
    );

    // Again, choosing the account.
    let mut args = args.to_vec();
    args.extend(["--account", "acme-staging"]);
    let mut cli = Running::start(home.path(), &args);
    approve_device(&mut cli, &mut browser, &flotilla).await;
    let (status, log) = cli.finish().await;
    assert!(status.success(), "{log}");
    assert_eq!(
        ok(home.path(), &["get-account-name"]).await,
        "acme-staging\n"
    );
    assert_eq!(mode(&home.path().join(".flotilla/credentials.json")), 0o600);
    assert!(
        !home.path().join(".kube").exists(),
        "--no-kubeconfig touched none"
    );
}

#[tokio::test]
async fn configure_gives_up_with_a_clear_message_when_the_browser_never_comes_back() {
    let (flotilla, _provider, _browser) = alice().await;
    let home = tempfile::tempdir().expect("tempdir");
    // $BROWSER is what opens the page: here a script that notes the address it was given.
    let opener = home.path().join("open-browser");
    std::fs::write(
        &opener,
        "#!/bin/sh\nprintf '%s' \"$1\" > \"$(dirname \"$0\")/opened\"\n",
    )
    .expect("write");
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = command(
        home.path(),
        &[
            "configure",
            "--server",
            &flotilla.url,
            "--timeout",
            "1",
            "--no-kubeconfig",
        ],
    )
    .env("BROWSER", &opener)
    .output()
    .await
    .expect("run flotilla");
    let (code, err) = (
        out.status.code().expect("an exit code"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(code, 3, "{err}");
    let opened =
        std::fs::read_to_string(home.path().join("opened")).expect("the browser was opened");
    assert!(
        opened.starts_with(&flotilla.at("/oauth/authorize?")),
        "{opened}"
    );
    assert!(!err.contains("No browser could be opened"), "{err}");
    assert!(
        err.contains("/oauth/authorize?") && err.contains("Waiting for the browser"),
        "the URL is printed, and the wait shown: {err}"
    );
    assert!(
        err.trim_end().ends_with(
            "error: no answer from the browser within 1 s: run `flotilla configure` again (or with --device)"
        ),
        "{err}"
    );
    assert!(!home.path().join(".flotilla").exists(), "nothing saved");
}
