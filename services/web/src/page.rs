//! A tiny HTML builder for the server-rendered pages (log-in, sign-up, consent, device,
//! errors, the console's shell): every piece of text goes through [`escape`], so nothing a
//! person or a provider supplied can become markup.

use std::fmt::Write;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flotilla_core::http::problems::KeepErrorBody;

use crate::assets;

/// The policy of every page: this server's scripts, styles and API only, never framed. No
/// inline script or style exists to allow. (No `form-action`: Chromium applies it to the
/// redirect after a consent form, which goes to the CLI's loopback address.)
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An HTML answer with the page headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // Pages hold per-person content and one-time values.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Same-origin form posts must carry their Origin (the CSRF check); `no-referrer` would
    // make browsers send `Origin: null`.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response.extensions_mut().insert(KeepErrorBody);
    response
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The document's start up to `</head>`: title, viewport, the stylesheet and an optional
/// module script (deferred by nature, so the page paints before it runs).
pub fn head(title: &str, script: Option<&str>) -> String {
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Flotilla</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"{}\">",
        escape(title),
        assets::path("style.css")
    );
    if let Some(script) = script {
        let _ = write!(
            out,
            "<script type=\"module\" src=\"{}\"></script>",
            assets::path(script)
        );
    }
    out.push_str("</head>");
    out
}

/// A page being built.
pub struct Page {
    body: String,
}

impl Page {
    /// A page titled `title`, in the narrow card layout.
    pub fn new(title: &str) -> Self {
        Self::with_script(title, None)
    }

    /// A page titled `title` that runs the module `script` (an asset of `web/`).
    pub fn with_script(title: &str, script: Option<&str>) -> Self {
        let mut body = head(title, script);
        let _ = write!(
            body,
            "<body class=\"card-page\"><header class=\"top\"><a class=\"brand\" href=\"/\">Flotilla</a>\
             </header><main id=\"main\"><h1>{}</h1>",
            escape(title)
        );
        Self { body }
    }

    /// Raw markup, already escaped by the caller.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.body.push_str(markup);
        self
    }

    /// A paragraph of text.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = write!(self.body, "<p>{}</p>", escape(text));
        self
    }

    /// A paragraph with a class (`muted`, `error`, `notice`).
    pub fn para_class(&mut self, class: &str, text: &str) -> &mut Self {
        let _ = write!(self.body, "<p class=\"{class}\">{}</p>", escape(text));
        self
    }

    /// A link.
    pub fn link(&mut self, href: &str, text: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<p><a href=\"{}\">{}</a></p>",
            escape(href),
            escape(text)
        );
        self
    }

    /// A link that looks like a button (a choice that starts something, such as a log-in).
    pub fn button_link(&mut self, href: &str, text: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<p><a class=\"button\" href=\"{}\">{}</a></p>",
            escape(href),
            escape(text)
        );
        self
    }

    /// A POST form to `action` with hidden fields, optional text inputs (name, label, value,
    /// hint) and buttons (name, value, label, primary).
    pub fn form(
        &mut self,
        action: &str,
        hidden: &[(&str, &str)],
        inputs: &[(&str, &str, &str, &str)],
        buttons: &[(&str, &str, &str, bool)],
    ) -> &mut Self {
        let _ = write!(
            self.body,
            "<form method=\"post\" action=\"{}\">",
            escape(action)
        );
        for (name, value) in hidden {
            let _ = write!(
                self.body,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            );
        }
        for (name, label, value, hint) in inputs {
            let (name, hint) = (escape(name), escape(hint));
            let _ = write!(
                self.body,
                "<label for=\"{name}\">{}</label><input type=\"text\" id=\"{name}\" name=\"{name}\" \
                 value=\"{}\" required autocomplete=\"off\" aria-describedby=\"{name}-hint\">\
                 <p id=\"{name}-hint\" class=\"muted\">{hint}</p>",
                escape(label),
                escape(value)
            );
        }
        for (name, value, label, primary) in buttons {
            let class = if *primary { "" } else { " class=\"secondary\"" };
            let _ = write!(
                self.body,
                "<button type=\"submit\" name=\"{}\" value=\"{}\"{class}>{}</button>",
                escape(name),
                escape(value),
                escape(label)
            );
        }
        self.body.push_str("</form>");
        self
    }

    /// The finished document.
    pub fn finish(&mut self) -> String {
        let mut body = std::mem::take(&mut self.body);
        body.push_str("</main></body></html>");
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_never_becomes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = Page::new("<b>").para("<script>").finish();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
    }
}
