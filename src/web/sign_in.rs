//! Choosing one's own password: "forgot password" on the login page, and
//! the pages behind the invitation and reset links. GET and HEAD only show
//! (link scanners fetch every link); only a POST with the page's form
//! token and a password that meets the policy uses a link.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, check_form_token, form_token, Nav, FORM_COOKIE};
use super::{page, unknown_link, Chrome, PageResult, WebError};
use crate::auth::jwt::WEB_TTL_SECS;
use crate::domain::account::{LoginEmail, Password, SignInPurpose};
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::http::client;
use crate::service::clock::long_moment;
use crate::service::sign_in::{self, LinkHolder};
use crate::service::ServiceError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/forgot.html")]
struct ForgotPage {
    c: Chrome,
    csrf: String,
    email: String,
    error: Option<String>,
    sent: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

/// A logged-out page with the form token cookie set when it is new.
fn with_form_cookie(
    req: &HttpRequest,
    state: &AppState,
    build: impl FnOnce(String) -> HttpResponse,
) -> HttpResponse {
    let (csrf, fresh) = form_token(req);
    let mut response = build(csrf.clone());
    if fresh {
        let _ = response.add_cookie(&session::cookie(state, FORM_COOKIE, csrf, WEB_TTL_SECS));
    }
    response
}

fn forgot_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    email: String,
    error: Option<String>,
    sent: bool,
) -> HttpResponse {
    let lang = session::language(req);
    with_form_cookie(req, state, |csrf| {
        page(
            status,
            &ForgotPage {
                c: Chrome::new(lang, "/password/forgot", Nav::None),
                csrf,
                email,
                error,
                sent,
            },
        )
    })
}

/// GET /password/forgot
pub async fn forgot_show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    forgot_page(&req, &state, StatusCode::OK, String::new(), None, false)
}

/// POST /password/forgot: the same page whether or not the address has an
/// account (the email, if any, is sent after the answer).
pub async fn forgot(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> PageResult {
    let lang = session::language(&req);
    let form: ForgotForm = super::decode(&body, lang)?;
    check_form_token(&req, &form.csrf, lang)?;
    if LoginEmail::parse(&form.email).is_err() {
        let c = Chrome::new(lang, "/password/forgot", Nav::None);
        let error = c.t(
            "Vul een geldig e-mailadres in, zoals naam@gemeente.nl.",
            "Enter a valid email address, such as name@municipality.nl.",
        );
        return Ok(forgot_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            form.email,
            Some(error.into()),
            false,
        ));
    };
    let address = client::address(&req, &state.trusted_proxies);
    sign_in::forgot_password(&state.ctx, &state.reset_limiter, address, &form.email, lang)
        .await
        .map_err(|e| WebError::service(e, lang))?;
    Ok(forgot_page(
        &req,
        &state,
        StatusCode::OK,
        String::new(),
        None,
        true,
    ))
}

#[derive(Template)]
#[template(path = "web/choose_password.html")]
struct ChoosePage {
    c: Chrome,
    csrf: String,
    heading: String,
    intro: String,
    button: &'static str,
    action: String,
    email: String,
    expires: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

fn path_of(purpose: SignInPurpose, token: &str) -> String {
    match purpose {
        SignInPurpose::Invitation => format!("/welcome/{token}"),
        SignInPurpose::Reset => format!("/password/reset/{token}"),
    }
}

fn choose_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    (purpose, token): (SignInPurpose, &str),
    holder: &LinkHolder,
    error: Option<String>,
) -> HttpResponse {
    let lang = session::language(req);
    let action = path_of(purpose, token);
    let c = Chrome::new(lang, &action, Nav::None);
    let (heading, intro, button) = match purpose {
        SignInPurpose::Invitation => (
            c.t("Welkom bij Meeloop", "Welcome to Meeloop"),
            match lang {
                Language::Nl => format!("Kies een wachtwoord voor je account {}. Daarna ben je ingelogd.", holder.user.email),
                Language::En => format!("Choose a password for your account {}. Then you are logged in.", holder.user.email),
            },
            c.t("Wachtwoord opslaan en inloggen", "Save the password and log in"),
        ),
        SignInPurpose::Reset => (
            c.t("Kies een nieuw wachtwoord", "Choose a new password"),
            match lang {
                Language::Nl => format!("Voor je account {}. Elke sessie van het account stopt; daarna log je in met het nieuwe wachtwoord.", holder.user.email),
                Language::En => format!("For your account {}. Every session of the account ends; then you log in with the new password.", holder.user.email),
            },
            c.t("Wachtwoord opslaan", "Save the password"),
        ),
    };
    let (heading, expires) = (heading.to_string(), long_moment(holder.expires_at, lang));
    with_form_cookie(req, state, |csrf| {
        page(
            status,
            &ChoosePage {
                c,
                csrf,
                heading,
                intro,
                button,
                action,
                email: holder.user.email.clone(),
                expires,
                error,
            },
        )
    })
}

/// A link that cannot be used (any more): the page says so and how to get
/// a new one.
fn not_valid(req: &HttpRequest, e: ServiceError) -> HttpResponse {
    if e.kind() == Some(Kind::NotFound) {
        unknown_link(req)
    } else {
        super::link_failure(req, &e)
    }
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    purpose: SignInPurpose,
) -> HttpResponse {
    let token = req
        .match_info()
        .get("token")
        .unwrap_or_default()
        .to_string();
    match sign_in::open_link(&state.ctx, purpose, &token).await {
        Ok(holder) => choose_page(
            &req,
            &state,
            StatusCode::OK,
            (purpose, &token),
            &holder,
            None,
        ),
        Err(e) => not_valid(&req, e),
    }
}

async fn choose(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
    purpose: SignInPurpose,
) -> PageResult {
    let lang = session::language(&req);
    let token = req
        .match_info()
        .get("token")
        .unwrap_or_default()
        .to_string();
    let form: ChooseForm = super::decode(&body, lang)?;
    check_form_token(&req, &form.csrf, lang)?;
    let holder = match sign_in::open_link(&state.ctx, purpose, &token).await {
        Ok(holder) => holder,
        Err(e) => return Ok(not_valid(&req, e)),
    };
    let c = Chrome::new(lang, "/", Nav::None);
    let refuse = |error: String| {
        choose_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            (purpose, &token),
            &holder,
            Some(error),
        )
    };
    if form.password != form.repeat {
        return Ok(refuse(
            c.t(
                "De twee wachtwoorden zijn niet gelijk.",
                "The two passwords differ.",
            )
            .into(),
        ));
    }
    let password = match Password::parse(&form.password) {
        Ok(p) => p,
        Err(_) => {
            return Ok(refuse(
                c.t(
                    "Het wachtwoord moet minstens 12 en hoogstens 128 tekens hebben.",
                    "The password must have at least 12 and at most 128 characters.",
                )
                .into(),
            ))
        }
    };
    let result = sign_in::choose_password(
        &state.ctx,
        state.jwt.clone(),
        purpose,
        &token,
        password,
        client::origin(&req, &state.trusted_proxies),
    )
    .await;
    match result {
        Ok((_, Some(token))) => Ok(session::signed_in(&state, "/dashboard", token)),
        // A reset ends every session, this browser's too: log in afresh.
        Ok((_, None)) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login?changed=1"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(session::removal(&state, session::SESSION_COOKIE))
            .finish()),
        Err(e) if e.kind() == Some(Kind::NotFound) => Ok(not_valid(&req, e)),
        Err(e) => Err(WebError::service(e, lang)),
    }
}

/// GET /welcome/{token}
pub async fn welcome_show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    show(req, state, SignInPurpose::Invitation).await
}

/// POST /welcome/{token}: the first password; then logged in.
pub async fn welcome(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> PageResult {
    choose(req, state, body, SignInPurpose::Invitation).await
}

/// GET /password/reset/{token}
pub async fn reset_show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    show(req, state, SignInPurpose::Reset).await
}

/// POST /password/reset/{token}: a new password; every session ends.
pub async fn reset(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> PageResult {
    choose(req, state, body, SignInPurpose::Reset).await
}
