//! Single sign-on on the pages: "Inloggen met …" on the login page starts
//! a sign-in at the organisation's identity provider, and the provider
//! sends the browser back to the callback. The start is a link (a GET): a
//! form's redirect to another site would break the pages' CSP
//! (`form-action 'self'`), and it changes nothing on the server (the
//! attempt lives in the browser's cookie).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::session::{self, local_path};
use super::{PageResult, WebError};
use crate::auth::jwt::SSO_TTL_SECS;
use crate::http::client;
use crate::service::sso::{self, Callback};
use crate::state::AppState;

/// The cookie that carries a sign-in attempt through the provider.
pub const SSO_COOKIE: &str = "meeloop_sso";

#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// GET /login/sso/{provider}?next=…: on to the identity provider.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    query: web::Query<StartQuery>,
) -> PageResult {
    let lang = session::language(&req);
    let next = local_path(query.next.as_deref());
    let begun = sso::begin(&state.ctx, &state.jwt, &provider, &next)
        .await
        .map_err(|e| failure(e, lang))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, begun.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session::cookie(
            &state,
            SSO_COOKIE,
            begun.cookie,
            SSO_TTL_SECS,
        ))
        .finish())
}

/// A refused or failed sign-in as a page; an unreachable provider is a 503.
fn failure(
    e: crate::service::ServiceError,
    lang: crate::domain::organisation::Language,
) -> WebError {
    let unavailable = e.code() == Some("sso_unavailable");
    match WebError::service(e, lang) {
        WebError::Page {
            lang,
            heading,
            message,
            retry_after,
            ..
        } if unavailable => WebError::Page {
            status: StatusCode::SERVICE_UNAVAILABLE,
            lang,
            heading,
            message,
            retry_after,
        },
        other => other,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
}

/// GET /login/sso/{provider}/callback: the provider's answer. Only a
/// browser holding this sign-in's cookie (and the matching state and PKCE
/// verifier) gets a session; anyone else changes nothing.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> PageResult {
    let lang = session::language(&req);
    let cookie = req.cookie(SSO_COOKIE).map(|c| c.value().to_string());
    let back = Callback {
        provider: &provider,
        cookie: cookie.as_deref(),
        state: &query.state,
        code: query.code.as_deref(),
        error: query.error.as_deref(),
    };
    let origin = client::origin(&req, &state.trusted_proxies);
    let (_, token, next) = sso::complete(&state.ctx, &state.jwt, back, origin)
        .await
        .map_err(|e| failure(e, lang))?;
    let mut response = session::signed_in(&state, &local_path(Some(&next)), token);
    let _ = response.add_cookie(&session::removal(&state, SSO_COOKIE));
    Ok(response)
}
