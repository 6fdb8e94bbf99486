//! The browser session: an HttpOnly, SameSite=Lax cookie holding a signed
//! token of its own audience (the JSON API refuses it), a CSRF token bound
//! to that session for every form, and the remembered language.
//! docs/security.md, "Web sessions".

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};

use super::{page, Chrome, MessagePage};
use crate::auth::jwt::random_hex;
use crate::domain::account::User;
use crate::domain::organisation::Language;
use crate::domain::refusal::{Explain, Kind};
use crate::service::context::Context;
use crate::service::ServiceError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "meeloop_session";
/// The CSRF token of forms shown before logging in (the login form).
pub const FORM_COOKIE: &str = "meeloop_form";
pub const LANGUAGE_COOKIE: &str = "meeloop_lang";

/// The language of the pages: the remembered choice, else Dutch.
pub fn language(req: &HttpRequest) -> Language {
    req.cookie(LANGUAGE_COOKIE)
        .and_then(|c| c.value().parse().ok())
        .unwrap_or_default()
}

/// A cookie with our defaults: whole site, HttpOnly, Secure when the
/// instance is served over https.
pub fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(state.ctx.base_url.starts_with("https://"))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age_secs))
        .finish()
}

/// Signed in: the session cookie set, on to `next`.
pub fn signed_in(
    state: &AppState,
    next: &str,
    token: crate::auth::jwt::IssuedToken,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(state, SESSION_COOKIE, token.token, token.ttl_secs))
        .finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), 0);
    c.make_removal();
    c
}

/// The logged-in user of a page, with the session's CSRF token, and the
/// application and client the page is served in (so that a page handler
/// takes one argument for all of it).
pub struct Session {
    pub user: User,
    /// The user and this browser's session (to end it, or mark it on the
    /// sessions page).
    pub signed: crate::service::accounts::SignedIn,
    pub csrf: String,
    pub lang: Language,
    /// The path (and query) asked for, to come back to after a language switch.
    pub path: String,
    /// The client's address, for rate limits and the audit log.
    pub client: IpAddr,
    state: web::Data<AppState>,
}

impl Session {
    /// What the use cases take.
    pub fn ctx(&self) -> &Context {
        &self.state.ctx
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Refuses a form that does not carry this session's token.
    pub fn check(&self, sent: &str) -> Result<(), WebError> {
        if crate::auth::same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::csrf(self.lang))
        }
    }

    /// A posted form, once it is known to carry this session's CSRF token
    /// (`csrf`); fields it does not know or cannot read are left default.
    pub fn form<T: serde::de::DeserializeOwned + Default>(
        &self,
        body: &[u8],
    ) -> Result<T, WebError> {
        self.check_form(body)?;
        super::decode(body, self.lang)
    }

    /// Refuses a posted form without this session's CSRF token (`csrf`).
    pub fn check_form(&self, body: &[u8]) -> Result<(), WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let sent = pairs
            .iter()
            .find(|(name, _)| name == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        self.check(sent)
    }

    pub fn chrome(&self, nav: Nav) -> Chrome {
        Chrome::new(self.lang, &self.path, nav).with_user(&self.user, &self.csrf)
    }

    pub fn organisation(&self) -> Option<i64> {
        self.user.organisation_id.map(|o| o.0)
    }

    pub fn is_admin(&self) -> bool {
        crate::domain::account::is_admin(&self.user)
    }
}

/// Which part of the site a page belongs to, to mark it in the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    None,
    Dashboard,
    Peers,
    Knowledge,
    Statistics,
    Organisation,
    Admin,
    Account,
}

/// The path and query of a request, as a place to come back to.
pub fn here(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_string(),
        None => "/".into(),
    }
}

/// Only paths of this site are followed after login or a language switch
/// (never `//elsewhere` or `/\elsewhere`, which browsers treat as hosts).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control)
                && p.len() <= 2000 =>
        {
            p.to_string()
        }
        _ => "/dashboard".into(),
    }
}

impl FromRequest for Session {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let lang = language(req);
        let path = here(req);
        let peer = req.clone();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        Box::pin(async move {
            let login = || WebError::LogIn { next: path.clone() };
            let (Some(state), Some(token)) = (state, token) else {
                return Err(login());
            };
            let claims = state.jwt.verify_web(&token).map_err(|_| login())?;
            let csrf = claims.csrf.clone().unwrap_or_default();
            let signed = crate::http::extract::login_user(&state, claims)
                .await
                .map_err(|e| match e {
                    e if e.kind() == Some(Kind::Unauthorized) => login(),
                    other => WebError::service(other, lang),
                })?;
            // An admin who must use two-step verification sets it up first.
            let exempt = ["/account/two-step", "/logout"];
            if state.ctx.two_step.must_enrol(&signed.user)
                && !exempt.iter().any(|p| path.split('?').next() == Some(p))
            {
                return Err(WebError::Enrol);
            }
            Ok(Session {
                user: signed.user.clone(),
                signed,
                csrf,
                lang,
                path,
                client: crate::http::client::address(&peer, &state.trusted_proxies),
                state,
            })
        })
    }
}

/// The CSRF token of a form shown to someone not logged in, kept in a
/// cookie of its own; `None` means a new cookie must be set.
pub fn form_token(req: &HttpRequest) -> (String, bool) {
    match req.cookie(FORM_COOKIE) {
        Some(c) if c.value().len() == 64 => (c.value().to_string(), false),
        _ => (random_hex(32), true),
    }
}

/// Checks a logged-out form's token against its cookie.
pub fn check_form_token(req: &HttpRequest, sent: &str, lang: Language) -> Result<(), WebError> {
    match req.cookie(FORM_COOKIE) {
        Some(c) if crate::auth::same(c.value(), sent) => Ok(()),
        _ => Err(WebError::csrf(lang)),
    }
}

/// What a page answers when it cannot do what was asked: a page in the
/// user's language (never problem+json: people read these), or the way
/// to the login page.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in (or the session ended): to the login page, and back here after.
    LogIn { next: String },
    /// An admin who must turn on two-step verification before anything else.
    Enrol,
    Page {
        status: StatusCode,
        lang: Language,
        heading: (&'static str, &'static str),
        message: String,
        retry_after: Option<u64>,
    },
}

/// A use case's answer on a page: its refusal or failure becomes the error
/// page, in the page's language.
pub trait OnPage<T> {
    fn on_page(self, lang: Language) -> Result<T, WebError>;
}

impl<T> OnPage<T> for Result<T, ServiceError> {
    fn on_page(self, lang: Language) -> Result<T, WebError> {
        self.map_err(|e| WebError::service(e, lang))
    }
}

impl WebError {
    pub fn page(
        status: StatusCode,
        lang: Language,
        heading: (&'static str, &'static str),
        message: impl Into<String>,
    ) -> Self {
        WebError::Page {
            status,
            lang,
            heading,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn csrf(lang: Language) -> Self {
        Self::page(
            StatusCode::FORBIDDEN,
            lang,
            ("Formulier verlopen", "Form expired"),
            match lang {
                Language::Nl => "Dit formulier hoort niet (meer) bij je sessie. Er is niets opgeslagen. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
                Language::En => "This form does not belong to your session (any more). Nothing was saved. Go back, reload the page and try again.",
            },
        )
    }

    pub fn not_found(lang: Language) -> Self {
        Self::page(
            StatusCode::NOT_FOUND,
            lang,
            ("Niet gevonden", "Not found"),
            match lang {
                Language::Nl => "Deze pagina bestaat niet, of je mag haar niet zien.",
                Language::En => "This page does not exist, or you may not see it.",
            },
        )
    }

    /// A service failure as a page; the message is the service's own.
    pub fn service(e: ServiceError, lang: Language) -> Self {
        let (status, heading) = match &e {
            ServiceError::Invalid(_) => (
                StatusCode::BAD_REQUEST,
                ("Dat gaat niet", "That does not work"),
            ),
            ServiceError::Refused(r) => (
                crate::http::problem::status_of(r.kind()),
                match r.kind() {
                    Kind::NotFound => return Self::not_found(lang),
                    Kind::Unauthorized => ("Log opnieuw in", "Log in again"),
                    Kind::Forbidden => ("Geen toegang", "No access"),
                    Kind::Conflict | Kind::Invalid => ("Dat gaat niet", "That does not work"),
                },
            ),
            ServiceError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                ("Even wachten", "Please wait"),
            ),
            ServiceError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ("Even niet beschikbaar", "Briefly unavailable"),
            ),
            ServiceError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ("Er ging iets mis", "Something went wrong"),
            ),
        };
        let message = match &e {
            ServiceError::RateLimited(secs) => match lang {
                Language::Nl => format!("Te veel verzoeken; probeer het over {secs} seconden opnieuw."),
                Language::En => format!("Too many requests; try again in {secs} seconds."),
            },
            ServiceError::Unavailable(_) => match lang {
                Language::Nl => "De database is even niet bereikbaar. Er is niets opgeslagen; probeer het zo opnieuw.".into(),
                Language::En => "The database is briefly unreachable. Nothing was saved; try again shortly.".into(),
            },
            ServiceError::Internal(err) => {
                tracing::error!(error = ?err, "page failed");
                match lang {
                    Language::Nl => "Er ging aan onze kant iets mis. Er is niets opgeslagen.".into(),
                    Language::En => "Something went wrong on our side. Nothing was saved.".into(),
                }
            }
            other => other.message(lang),
        };
        WebError::Page {
            status,
            lang,
            heading,
            message,
            retry_after: match e {
                ServiceError::RateLimited(secs) => Some(secs),
                _ => None,
            },
        }
    }
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::LogIn { .. } => write!(f, "not logged in"),
            WebError::Enrol => write!(f, "two-step verification to set up first"),
            WebError::Page {
                status, message, ..
            } => write!(f, "{status}: {message}"),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::LogIn { .. } | WebError::Enrol => StatusCode::SEE_OTHER,
            WebError::Page { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::LogIn { next } => {
                let query =
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/login?{query}")))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish()
            }
            WebError::Enrol => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/account/two-step"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish(),
            WebError::Page {
                status,
                lang,
                heading,
                message,
                retry_after,
            } => {
                let c = Chrome::new(*lang, "/", Nav::None);
                let heading = c.t(heading.0, heading.1).to_string();
                let mut response = page(
                    *status,
                    &MessagePage {
                        c,
                        heading,
                        message: message.clone(),
                    },
                );
                if let Some(secs) = retry_after {
                    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                        response.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                }
                response
            }
        }
    }
}
