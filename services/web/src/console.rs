//! The console's shell: `/console/{account}/...` answers a page whose header, navigation and
//! heading are rendered here (so nothing moves when the data arrives) and whose content the
//! module `console/main.js` fills from the JSON API, with the same session cookie.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use flotilla_core::auth::credentials::{profile, Profile};
use flotilla_core::auth::{Caller, Role};
use flotilla_core::names::ClusterName;
use flotilla_core::{AppContext, Error};

use crate::page::{escape, head, html, Page};

/// The sections of an account, in navigation order: (path under the account, title, the
/// role that may open it). A section someone may not open is not shown to them.
const SECTIONS: &[(&str, &str, Role)] = &[
    ("", "Overview", Role::Viewer),
    ("dns", "DNS", Role::Viewer),
    ("registration", "Registration", Role::Admin),
    ("tokens", "API tokens", Role::Admin),
    ("members", "Members", Role::Viewer),
    ("audit", "Audit log", Role::Admin),
    ("settings", "Settings", Role::Viewer),
];

/// `GET /console`: the person's first account, or sign-up when they have none.
pub async fn index(
    State(ctx): State<AppContext>,
    caller: Option<Caller>,
    uri: Uri,
) -> Result<Response, Response> {
    let me = person(&ctx, caller.as_ref(), &uri).await?;
    Ok(match me.memberships.first() {
        Some(m) => Redirect::to(&format!("/console/{}", m.account)).into_response(),
        None => Redirect::to("/signup").into_response(),
    })
}

/// `GET /console/{account}` and everything under it.
pub async fn page(
    State(ctx): State<AppContext>,
    caller: Option<Caller>,
    uri: Uri,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let me = person(&ctx, caller.as_ref(), &uri).await?;
    let value = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let account = value("account").unwrap_or_default();
    let Some(membership) = me.memberships.iter().find(|m| m.account == account) else {
        return Err(not_found(&format!(
            "You are not a member of an account named {account:?}. Ask one of its owners to add \
             you, or open one of your own accounts from the Flotilla home page."
        )));
    };
    let rest: Vec<&str> = value("rest")
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (section, cluster) = match rest.as_slice() {
        [] => ("", None),
        ["clusters", name] => match ClusterName::parse(name) {
            Ok(_) => ("cluster", Some(*name)),
            Err(e) => {
                return Err(not_found(&format!(
                    "No cluster can be named {name:?}: {e}."
                )))
            }
        },
        [one] if SECTIONS.iter().any(|(path, _, _)| path == one) => (*one, None),
        _ => return Err(not_found("There is no such page in the console.")),
    };
    let role = membership.role;
    if SECTIONS
        .iter()
        .any(|(path, _, needed)| *path == section && role < *needed)
    {
        return Err(not_found(&format!(
            "This page is for the account's admins and owners; you are a {role} of {account}."
        )));
    }
    let title = match cluster {
        Some(name) => format!("Cluster {name}"),
        None => SECTIONS
            .iter()
            .find(|(path, _, _)| *path == section)
            .map(|(_, title, _)| (*title).to_owned())
            .unwrap_or_default(),
    };
    let mut body = head(&format!("{title} · {account}"), Some("console/main.js"));
    let _ = write!(
        body,
        "<body class=\"console\" data-account=\"{account}\" data-role=\"{role}\" \
         data-page=\"{page}\" data-cluster=\"{cluster}\" data-issuer=\"{issuer}\" \
         data-domain=\"{account}.{base}\">\
         <a class=\"skip\" href=\"#main\">Skip to content</a>",
        account = escape(account),
        role = role.as_str(),
        page = if section.is_empty() {
            "overview"
        } else {
            section
        },
        cluster = escape(cluster.unwrap_or_default()),
        issuer = escape(ctx.config.issuer()),
        base = escape(&ctx.config.dns_base_domain),
    );
    header(&mut body, &me, account, role);
    nav(&mut body, account, section, role);
    let _ = write!(
        body,
        "<main id=\"main\" tabindex=\"-1\"><h1>{}</h1>\
         <div id=\"content\" aria-live=\"polite\" aria-busy=\"true\"><p class=\"muted\">Loading…</p></div>\
         </main></body></html>",
        escape(&title)
    );
    Ok(html(StatusCode::OK, body))
}

/// The signed-in person, or the way to log in (coming back here).
async fn person(
    ctx: &AppContext,
    caller: Option<&Caller>,
    uri: &Uri,
) -> Result<std::sync::Arc<Profile>, Response> {
    let Some(person) = caller.and_then(Caller::browser_person) else {
        let back: String = url::form_urlencoded::byte_serialize(uri.path().as_bytes()).collect();
        return Err(Redirect::to(&format!("/login?return_to={back}")).into_response());
    };
    profile(&ctx.auth, &ctx.db, person)
        .await
        .map_err(|e: Error| e.into_response())
}

fn header(body: &mut String, me: &Profile, account: &str, role: Role) {
    let who = me.email.as_deref().or(me.name.as_deref()).unwrap_or("");
    let _ = write!(
        body,
        "<header class=\"top\"><a class=\"brand\" href=\"/console/{account}\">Flotilla</a>\
         <details class=\"accounts\"><summary>{account} <span class=\"muted\">({role})</span></summary><ul>",
        account = escape(account),
        role = role.as_str(),
    );
    for m in &me.memberships {
        let _ = write!(
            body,
            "<li><a href=\"/console/{name}\">{name}</a> <span class=\"muted\">{role}</span></li>",
            name = escape(&m.account),
            role = m.role.as_str(),
        );
    }
    let _ = write!(
        body,
        "<li><a href=\"/signup\">Create another account</a></li></ul></details>\
         <span class=\"who\">{}</span><a href=\"/docs\">API reference</a>\
         <form method=\"post\" action=\"/logout\"><button type=\"submit\" class=\"link\">Log out</button></form>\
         </header>",
        escape(who)
    );
}

fn nav(body: &mut String, account: &str, current: &str, role: Role) {
    body.push_str("<nav class=\"tabs\" aria-label=\"Account sections\"><ul>");
    for (path, title, _) in SECTIONS.iter().filter(|(_, _, needed)| role >= *needed) {
        let href = if path.is_empty() {
            format!("/console/{}", escape(account))
        } else {
            format!("/console/{}/{path}", escape(account))
        };
        // A cluster's page belongs to the overview.
        let here = *path == current || (path.is_empty() && current == "cluster");
        let mark = if here { " aria-current=\"page\"" } else { "" };
        let _ = write!(body, "<li><a href=\"{href}\"{mark}>{title}</a></li>");
    }
    body.push_str("</ul></nav>");
}

fn not_found(detail: &str) -> Response {
    let mut page = Page::new("Not found");
    page.para(detail).link("/", "Back to Flotilla");
    html(StatusCode::NOT_FOUND, page.finish())
}
