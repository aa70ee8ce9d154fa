//! Flotilla in the browser. The files under `web/` (one stylesheet, hand-written ES modules,
//! no build step) are compiled in and served content-hashed; [`page`] renders the
//! server-side pages the accounts service shows; [`console`] serves the console's shell,
//! whose scripts call the JSON API with the session cookie.

pub mod assets;
pub mod console;
pub mod page;

use axum::routing::get;
use axum::Router;
use flotilla_core::AppContext;

pub use page::{escape, html, Page};

/// The assets and the console's pages.
pub fn routes() -> Router<AppContext> {
    Router::new()
        .route("/assets/{build}/{*file}", get(assets::serve))
        .route("/console", get(console::index))
        .route("/console/{account}", get(console::page))
        .route("/console/{account}/{*rest}", get(console::page))
}
