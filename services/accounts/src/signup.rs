//! The browser's side of accounts: `/` (who you are and your accounts, until the console
//! lands) and `/signup` (choose the account name).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use flotilla_core::auth::Caller;
use flotilla_core::AppContext;
use serde::Deserialize;

use crate::accounts::create_account;
use crate::error::Error;
use crate::pages::{html, Page, PageError};
use flotilla_core::audit::Origin;
use flotilla_web::escape;

/// `GET /`: the console of the person's first account, sign-up when they have none, or the
/// way to log in.
pub async fn home(caller: Option<Caller>) -> Response {
    if caller.as_ref().and_then(Caller::browser_person).is_none() {
        return Redirect::to("/login").into_response();
    }
    Redirect::to("/console").into_response()
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
        Ok(account) => Ok(Redirect::to(&format!("/console/{}", account.name)).into_response()),
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
    // signup.js checks the name as it is typed and shows the domain it becomes.
    let mut page = Page::with_script("Create your account", Some("signup.js"));
    if let Some(error) = error {
        page.para_class("error", error);
    }
    let (name, base) = (escape(name), escape(base));
    let zone = if name.is_empty() {
        format!("&lt;name&gt;.{base}")
    } else {
        format!("{name}.{base}")
    };
    page.raw(&format!(
        "<form method=\"post\" action=\"/signup\"><label for=\"name\">Account name</label>\
         <input type=\"text\" id=\"name\" name=\"name\" value=\"{name}\" required maxlength=\"63\" \
         autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" aria-describedby=\"name-hint name-status\">\
         <p id=\"name-hint\" class=\"hint\">Lower-case letters, digits and inner dashes, up to 63 characters.</p>\
         <p class=\"status\" id=\"name-status\" role=\"status\">Your account's DNS zone: \
         <output id=\"domain\" for=\"name\" data-base=\"{base}\">{zone}</output></p>\
         <button type=\"submit\">Create account</button></form>"
    ));
    html(status, page.finish())
}
