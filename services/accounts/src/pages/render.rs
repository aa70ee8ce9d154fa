//! A tiny HTML builder: every piece of text goes through [`escape`], so nothing a person or a
//! provider supplied can become markup.

use std::fmt::Write;

use super::STYLESHEET_PATH;

/// The stylesheet of the pages.
pub const STYLESHEET: &str = "\
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--accent:#0b5cad;--muted:#57606a}\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--card:#161b22;--accent:#58a6ff;--muted:#9da7b1}}\
body{font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}\
main{max-width:34rem;margin:3rem auto;padding:2rem;background:var(--card);border-radius:8px}\
h1{font-size:1.4rem;margin-top:0}.muted{color:var(--muted)}\
label{display:block;font-weight:600;margin:1rem 0 .25rem}\
input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}\
button{font:inherit;padding:.5rem 1rem;margin:.75rem .5rem 0 0;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}\
button.secondary{background:transparent;color:var(--accent)}\
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
.error{border-left:4px solid #cf222e;padding-left:.75rem}.notice{border:2px dashed var(--accent);padding:.5rem .75rem}";

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

/// A page being built.
pub struct Page {
    body: String,
}

impl Page {
    /// A page titled `title`.
    pub fn new(title: &str) -> Self {
        let title = escape(title);
        let mut body = String::with_capacity(2048);
        let _ = write!(
            body,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Flotilla</title><link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\
             </head><body><main><h1>{title}</h1>"
        );
        Self { body }
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
