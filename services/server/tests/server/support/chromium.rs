//! The system's Chromium, for the tests that render pages in a real browser.

/// The Chromium binary: `$CHROMIUM`, or the first one installed.
pub fn chromium() -> String {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return path;
    }
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    panic!("no Chromium found: install it (apt-get install chromium; scripts/install-test-deps.sh does) or set CHROMIUM");
}
