//! The browser's side of accounts: `/` (who you are and your accounts, until the console
//! lands) and `/signup` (choose the account name).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use flotilla_core::auth::credentials::profile;
use flotilla_core::auth::Caller;
use flotilla_core::AppContext;
use serde::Deserialize;

use crate::accounts::create_account;
use crate::error::Error;
use crate::pages::{html, Page, PageError};
use flotilla_core::audit::Origin;

/// `GET /`: the signed-in person's accounts, or the way to log in.
pub async fn home(
    State(ctx): State<AppContext>,
    caller: Option<Caller>,
) -> Result<Response, PageError> {
    let Some(person) = caller.as_ref().and_then(Caller::browser_person) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let me = profile(&ctx.auth, &ctx.db, person).await?;
    let who = me
        .email
        .clone()
        .or_else(|| me.name.clone())
        .unwrap_or_default();
    let mut page = Page::new("Flotilla");
    page.para(&format!("Logged in as {who}."));
    if me.memberships.is_empty() {
        page.link("/signup", "Create your account");
    }
    for m in &me.memberships {
        page.para(&format!(
            "{}.{} — {}",
            m.account, ctx.config.dns_base_domain, m.role
        ));
    }
    page.link("/docs", "API reference").form(
        "/logout",
        &[],
        &[],
        &[("logout", "1", "Log out", false)],
    );
    Ok(html(StatusCode::OK, page.finish()))
}

/// `GET /signup`: the account-name form.
pub async fn form(State(ctx): State<AppContext>, caller: Option<Caller>) -> Response {
    if caller.as_ref().and_then(Caller::browser_person).is_none() {
        return Redirect::to("/login?return_to=%2Fsignup").into_response();
    }
    signup_page(&ctx, StatusCode::OK, "", None)
}

/// `POST /signup` form.
#[derive(Deserialize)]
pub struct SignUp {
    name: String,
}

/// `POST /signup`: creates the account, or shows the form again with what is wrong.
pub async fn submit(
    State(ctx): State<AppContext>,
    caller: Caller,
    origin: Origin,
    Form(form): Form<SignUp>,
) -> Result<Response, PageError> {
    let person = caller.require_person()?;
    match create_account(&ctx, person, form.name.trim(), &origin).await {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(Error::Core(
            e @ (flotilla_core::Error::Conflict(_) | flotilla_core::Error::Validation(_)),
        )) => {
            let problem = e.to_problem();
            let reason = problem
                .errors
                .first()
                .map(|f| f.message.clone())
                .or(problem.detail.clone())
                .unwrap_or_default();
            Ok(signup_page(
                &ctx,
                problem.status_code(),
                &form.name,
                Some(&reason),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn signup_page(ctx: &AppContext, status: StatusCode, name: &str, error: Option<&str>) -> Response {
    let base = &ctx.config.dns_base_domain;
    let mut page = Page::new("Create your account");
    if let Some(error) = error {
        page.para_class("error", error);
    }
    page.form(
        "/signup",
        &[],
        &[(
            "name",
            "Account name",
            name,
            &format!(
                "Lower-case letters, digits and inner dashes, up to 63 characters. \
                 It becomes <name>.{base}."
            ),
        )],
        &[("create", "1", "Create account", true)],
    );
    html(status, page.finish())
}
