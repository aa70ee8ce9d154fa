//! The files under `web/`, compiled into the binary and served at `/assets/<build>/<file>`.
//! `<build>` is a hash of every file's name and content, so a page always loads the scripts
//! and stylesheet it was written for, browsers may keep them for a year, and modules import
//! each other by relative paths that stay inside one build.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One file of `web/`.
pub struct Asset {
    /// Its path under `web/` (and under `/assets/<build>/`).
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

macro_rules! assets {
    ($($name:literal),* $(,)?) => {
        &[$(Asset { name: $name, bytes: include_bytes!(concat!("../../../web/", $name)) }),*]
    };
}

/// Every served file (a test checks that this is every file of `web/` outside `tests/`).
pub const ASSETS: &[Asset] = assets![
    "style.css",
    "signup.js",
    "console/main.js",
    "console/api.js",
    "console/dom.js",
    "console/overview.js",
    "console/cluster.js",
    "console/registration.js",
    "console/dns.js",
    "console/tokens.js",
    "console/members.js",
    "console/audit.js",
    "console/settings.js",
];

static BUILD: LazyLock<String> = LazyLock::new(|| {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for asset in ASSETS {
        digest.update(asset.name.as_bytes());
        digest.update(&[0]);
        digest.update(&(asset.bytes.len() as u64).to_be_bytes());
        digest.update(asset.bytes);
    }
    digest.finish().as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The build's hash: the directory every asset is served under.
pub fn build() -> &'static str {
    &BUILD
}

/// The URL path of asset `name` (which must be in [`ASSETS`]).
pub fn path(name: &str) -> String {
    debug_assert!(ASSETS.iter().any(|a| a.name == name), "no asset {name}");
    format!("/assets/{}/{name}", build())
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /assets/{build}/{*file}`: the file, cached for a year; another build's path is 404 (a
/// page of an older build loads its own files from a replica still running that build).
pub async fn serve(Path((build, file)): Path<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|a| a.name == file);
    let Some(asset) = found.filter(|_| build == self::build()) else {
        return (StatusCode::NOT_FOUND, "no such asset in this build").into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(asset.name)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, under: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read web/") {
            let entry = entry.expect("entry");
            let name = format!("{under}{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("type").is_dir() {
                if !["tests", "node_modules"].contains(&name.as_str()) {
                    files(&entry.path(), &format!("{name}/"), out);
                }
            } else if name.ends_with(".js") || name.ends_with(".css") {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_file_of_web_is_served() {
        let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let mut found = Vec::new();
        files(&web, "", &mut found);
        found.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        listed.sort();
        assert_eq!(found, listed, "web/ and ASSETS differ");
    }

    #[test]
    fn paths_carry_the_build() {
        assert_eq!(build().len(), 12);
        assert_eq!(path("style.css"), format!("/assets/{}/style.css", build()));
    }
}
