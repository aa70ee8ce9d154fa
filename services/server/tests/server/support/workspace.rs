//! Where things are in the workspace: its root (scripts, fixtures, `web/`, `deploy/`) and the
//! binaries built next to the test binary.

/// The repository's root (scripts, fixtures and web/ live there).
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary of the workspace built next to the test binary (`scripts/test.sh` builds the CLI
/// and the agent first).
pub fn sibling_binary(name: &str, package: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {package}` (scripts/test.sh does)",
        path.display()
    );
    path
}
