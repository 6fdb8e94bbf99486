//! Logging in and out in the browser, and the language switch.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, check_form_token, form_token, local_path, Nav, FORM_COOKIE};
use super::{page, Chrome, Session, WebError};
use crate::auth::jwt::{LoginKind, WEB_TTL_SECS};
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::http::client;
use crate::service::{accounts, ServiceError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    c: Chrome,
    csrf: String,
    /// Identity providers: (id, name).
    providers: Vec<(String, String)>,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    out: Option<String>,
    changed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn login_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> HttpResponse {
    let lang = session::language(req);
    let (csrf, fresh) = form_token(req);
    let mut response = page(
        status,
        &LoginPage {
            c: Chrome::new(lang, &session::here(req), Nav::None),
            csrf: csrf.clone(),
            providers: crate::service::sso::providers(&state.ctx),
            next,
            email,
            error,
            notice,
        },
    );
    if fresh {
        let _ = response.add_cookie(&session::cookie(state, FORM_COOKIE, csrf, WEB_TTL_SECS));
    }
    response
}

/// GET /login: the form (a logged-in visitor goes on to the dashboard).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let lang = session::language(&req);
    let next = local_path(query.next.as_deref());
    let notice = match (&query.out, &query.changed, lang) {
        (Some(_), _, Language::Nl) => Some("Je bent uitgelogd."),
        (Some(_), _, Language::En) => Some("You are logged out."),
        (_, Some(_), Language::Nl) => {
            Some("Je wachtwoord is gewijzigd en elke sessie is gestopt. Log in met het nieuwe wachtwoord.")
        }
        (_, Some(_), Language::En) => {
            Some("Your password was changed and every session ended. Log in with the new password.")
        }
        _ => None,
    }
    .map(str::to_string);
    login_page(
        &req,
        &state,
        StatusCode::OK,
        next,
        String::new(),
        None,
        notice,
    )
}

/// POST /login: the same checks and rate limits as the API's login; the
/// session goes into an HttpOnly cookie.
pub async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> PageResult {
    let lang = session::language(&req);
    let form: LoginForm = super::decode(&body, lang)?;
    check_form_token(&req, &form.csrf, lang)?;
    let next = local_path(form.next.as_deref());
    let result = accounts::login(
        &state.ctx,
        state.jwt.clone(),
        &state.login_limiter,
        client::origin(&req, &state.trusted_proxies),
        form.email.clone(),
        form.password,
        None,
        LoginKind::Web,
    )
    .await;
    let c = Chrome::new(lang, "/login", Nav::None);
    let refused = |status, message: String| {
        login_page(
            &req,
            &state,
            status,
            next.clone(),
            form.email.clone(),
            Some(message),
            None,
        )
    };
    match result {
        Ok(accounts::LoggedIn::Session(_, token)) => Ok(session::signed_in(&state, &next, token)),
        Ok(accounts::LoggedIn::SecondStep(pending)) => {
            Ok(super::two_step::ask_for_code(&state, &next, pending))
        }
        Err(e) if e.kind() == Some(Kind::Unauthorized) => Ok(refused(
            StatusCode::UNAUTHORIZED,
            c.t(
                "Het e-mailadres of het wachtwoord klopt niet.",
                "The email address or password is wrong.",
            )
            .into(),
        )),
        Err(ServiceError::RateLimited(secs)) => {
            let mut response = refused(
                StatusCode::TOO_MANY_REQUESTS,
                match lang {
                    Language::Nl => {
                        format!("Te veel pogingen. Probeer het over {secs} seconden opnieuw.")
                    }
                    Language::En => format!("Too many attempts. Try again in {secs} seconds."),
                },
            );
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}

/// POST /logout: ends this browser's session (others stay; the sessions
/// page ends those) and forgets the cookie.
pub async fn logout(session: Session, body: web::Bytes) -> PageResult {
    session.check_form(&body)?;
    let this = accounts::Ending::One(session.signed.session);
    accounts::end_sessions(session.ctx(), &session.signed, this, session.client)
        .await
        .on_page(session.lang)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login?out=1"))
        .cookie(session::removal(session.state(), session::SESSION_COOKIE))
        .finish())
}

#[derive(Debug, Default, Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// GET /language/{nl|en}: remembers the choice in a cookie (a preference
/// of this browser; nothing on the server changes) and goes back.
pub async fn switch(
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<Back>,
) -> HttpResponse {
    let lang: Language = code.parse().unwrap_or_default();
    let mut remembered = session::cookie(
        &state,
        session::LANGUAGE_COOKIE,
        lang.as_str().into(),
        365 * 86400,
    );
    remembered.set_http_only(false);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, local_path(query.back.as_deref())))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(remembered)
        .finish()
}

/// GET /: the dashboard, or the login page.
pub async fn home(req: HttpRequest) -> HttpResponse {
    let to = if req.cookie(session::SESSION_COOKIE).is_some() {
        "/dashboard"
    } else {
        "/login"
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
