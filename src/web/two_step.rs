//! Two-step verification on the pages: the code after the password
//! (`/login/two-step`), and setting it up, renewing recovery codes and
//! turning it off (`/account/two-step`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, check_form_token, form_token, local_path, Nav, OnPage, FORM_COOKIE};
use super::{page, Chrome, PageResult, Session, WebError};
use crate::auth::jwt::{IssuedToken, SECOND_STEP_TTL_SECS, WEB_TTL_SECS};
use crate::domain::refusal::Kind;
use crate::http::client;
use crate::service::clock::long_moment;
use crate::service::{accounts, two_step, ServiceError};
use crate::state::AppState;

/// The cookie that remembers, for five minutes, that the password was right.
pub const STEP_COOKIE: &str = "meeloop_step";

/// After a right password on an account with two-step verification: on to
/// the code, remembering the password step in its own cookie.
pub fn ask_for_code(state: &AppState, next: &str, pending: IssuedToken) -> HttpResponse {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/login/two-step?{query}")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session::cookie(
            state,
            STEP_COOKIE,
            pending.token,
            SECOND_STEP_TTL_SECS,
        ))
        .finish()
}

#[derive(Template)]
#[template(path = "web/two_step_login.html")]
struct CodePage {
    c: Chrome,
    csrf: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
    #[serde(default)]
    action: String,
}

fn code_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    next: String,
    error: Option<String>,
) -> HttpResponse {
    let lang = session::language(req);
    let (csrf, fresh) = form_token(req);
    let mut response = page(
        status,
        &CodePage {
            c: Chrome::new(lang, "/login/two-step", Nav::None),
            csrf: csrf.clone(),
            next,
            error,
        },
    );
    if fresh {
        let _ = response.add_cookie(&session::cookie(state, FORM_COOKIE, csrf, WEB_TTL_SECS));
    }
    response
}

fn back_to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// GET /login/two-step: the code's form (without a right password first,
/// back to the login page).
pub async fn step_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    if req.cookie(STEP_COOKIE).is_none() {
        return back_to_login();
    }
    let next = local_path(query.next.as_deref());
    code_page(&req, &state, StatusCode::OK, next, None)
}

/// A refused code, said on the page (with `Retry-After` when rate-limited).
fn code_refused(req: &HttpRequest, state: &AppState, next: String, e: ServiceError) -> PageResult {
    let lang = session::language(req);
    let (status, retry) = match &e {
        ServiceError::RateLimited(secs) => (StatusCode::TOO_MANY_REQUESTS, Some(*secs)),
        e if e.kind() == Some(Kind::Unauthorized) => (StatusCode::UNAUTHORIZED, None),
        _ => return Err(WebError::service(e, lang)),
    };
    let mut response = code_page(req, state, status, next, Some(e.message(lang)));
    if let Some(v) = retry.and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(response)
}

/// POST /login/two-step: the code (or a recovery code) starts the session.
pub async fn step(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> PageResult {
    let lang = session::language(&req);
    let form: CodeForm = super::decode(&body, lang)?;
    check_form_token(&req, &form.csrf, lang)?;
    let next = local_path(form.next.as_deref());
    let Some(pending) = req.cookie(STEP_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(back_to_login());
    };
    let result = accounts::second_step(
        &state.ctx,
        state.jwt.clone(),
        &pending,
        &form.code,
        client::origin(&req, &state.trusted_proxies),
    )
    .await;
    match result {
        Ok((_, token)) => {
            let mut response = session::signed_in(&state, &next, token);
            let _ = response.add_cookie(&session::removal(&state, STEP_COOKIE));
            Ok(response)
        }
        // The password step ran out (or the account changed): start again.
        Err(e) if e.code() == Some("session_ended") => Ok(back_to_login()),
        Err(e) => code_refused(&req, &state, next, e),
    }
}

#[derive(Template)]
#[template(path = "web/two_step.html")]
struct SetupPage {
    c: Chrome,
    csrf: String,
    /// An admin who must turn it on before anything else.
    must: bool,
    enabled: Option<String>,
    codes_left: i64,
    required: bool,
    pending: Option<two_step::Enrolment>,
    /// Recovery codes, shown once.
    codes: Option<Vec<String>>,
    error: Option<String>,
}

async fn setup_page(
    session: &Session,
    status: StatusCode,
    codes: Option<Vec<String>>,
    error: Option<String>,
) -> PageResult {
    let lang = session.lang;
    // After a change the account as stored, not as the request began.
    let (user, _) = accounts::me(session.ctx(), session.user.clone())
        .await
        .on_page(lang)?;
    let status_now = two_step::status(session.ctx(), &user).await.on_page(lang)?;
    let user = crate::domain::account::User {
        two_step: status_now.enabled_at.is_some(),
        ..user
    };
    Ok(page(
        status,
        &SetupPage {
            c: session.chrome(Nav::Account),
            csrf: session.csrf.clone(),
            must: session.ctx().two_step.must_enrol(&user),
            enabled: status_now.enabled_at.map(|at| long_moment(at, lang)),
            codes_left: status_now.codes_left,
            required: status_now.required,
            pending: status_now.pending,
            codes,
            error,
        },
    ))
}

/// GET /account/two-step
pub async fn show(session: Session) -> PageResult {
    setup_page(&session, StatusCode::OK, None, None).await
}

/// POST /account/two-step: `action` = start, confirm, renew or off (the
/// last three with a `code` from the app).
pub async fn change(session: Session, body: web::Bytes) -> PageResult {
    let lang = session.lang;
    let form: CodeForm = session.form(&body)?;
    let (ctx, user, client) = (session.ctx(), &session.user, session.client);
    let result = match form.action.as_str() {
        "start" => two_step::start(ctx, user).await.map(|()| None),
        "confirm" => two_step::confirm(ctx, user, &form.code, client)
            .await
            .map(Some),
        "renew" => two_step::renew_codes(ctx, user, &form.code, client)
            .await
            .map(Some),
        "off" => two_step::turn_off(ctx, user, &form.code, client)
            .await
            .map(|()| None),
        _ => return Err(WebError::not_found(lang)),
    };
    match result {
        Ok(Some(codes)) => setup_page(&session, StatusCode::OK, Some(codes), None).await,
        Ok(None) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account/two-step"))
            .finish()),
        Err(ServiceError::RateLimited(secs)) => {
            Err(WebError::service(ServiceError::RateLimited(secs), lang))
        }
        Err(e) if e.kind().is_some() => {
            let status = match e.kind() {
                Some(Kind::Unauthorized) => StatusCode::BAD_REQUEST,
                Some(kind) => crate::http::problem::status_of(kind),
                None => StatusCode::BAD_REQUEST,
            };
            setup_page(&session, status, None, Some(e.message(lang))).await
        }
        Err(e) => Err(WebError::service(e, lang)),
    }
}
