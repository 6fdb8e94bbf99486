//! The extractors that turn a bearer token into the calling user or
//! partner. Handlers that need a caller take one as an argument; nothing
//! else checks tokens.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::problem::ApiError;
use crate::domain::account::User;
use crate::domain::partner::Partner;
use crate::service;
use crate::state::AppState;

/// The logged-in user behind a valid, unrevoked login token.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed = CurrentSession::from_request(req, payload);
        Box::pin(async move { Ok(CurrentUser(signed.await?.0.user)) })
    }
}

/// The logged-in user and the session the token belongs to (for the
/// routes that list and end one's sessions).
#[derive(Debug, Clone)]
pub struct CurrentSession(pub service::accounts::SignedIn);

impl FromRequest for CurrentSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_token(req, |state, token| async move {
            let claims = state
                .jwt
                .verify_login(&token)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            Ok(CurrentSession(login_user(&state, claims).await?))
        })
    }
}

/// A logged-in admin. Checked before the body is looked at, so that a
/// coordinator learns nothing about an admin route's input rules. The
/// services check the role again.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let CurrentUser(user) = user.await?;
            service::admin::require_admin(&user)?;
            Ok(AdminUser(user))
        })
    }
}

/// A partner program behind a valid partner token; `scopes` are the token's.
#[derive(Debug, Clone)]
pub struct CurrentPartner(pub Partner);

impl FromRequest for CurrentPartner {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_token(req, |state, token| async move {
            let claims = state
                .jwt
                .verify_partner(&token)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            Ok(CurrentPartner(partner(&state, claims).await?))
        })
    }
}

/// Whoever may read the knowledge base: a logged-in user or a partner
/// program (whose scopes the service checks). A login token is tried first.
#[derive(Debug, Clone)]
pub struct CurrentReader(pub service::lessons::Reader);

impl FromRequest for CurrentReader {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_token(req, |state, token| async move {
            if let Ok(claims) = state.jwt.verify_login(&token) {
                let user = login_user(&state, claims).await?.user;
                return Ok(CurrentReader(service::lessons::Reader::User(user)));
            }
            let claims = state
                .jwt
                .verify_partner(&token)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            Ok(CurrentReader(service::lessons::Reader::Partner(
                partner(&state, claims).await?,
            )))
        })
    }
}

/// The user behind verified login claims (an API token or a web session);
/// the request is counted before the database is asked anything.
pub(crate) async fn login_user(
    state: &AppState,
    claims: crate::auth::jwt::LoginClaims,
) -> Result<service::accounts::SignedIn, service::ServiceError> {
    state
        .api_limiter
        .check(&format!("user:{}", claims.sub))
        .map_err(service::ServiceError::RateLimited)?;
    service::accounts::authenticate(&state.ctx, &state.sessions, claims).await
}

/// The partner behind verified partner claims, counted the same way.
async fn partner(
    state: &AppState,
    claims: crate::auth::jwt::PartnerClaims,
) -> Result<Partner, ApiError> {
    state
        .api_limiter
        .check(&format!("partner:{}", claims.sub))
        .map_err(ApiError::too_many_requests)?;
    Ok(service::partners::authenticate(&state.ctx, claims).await?)
}

/// Takes the bearer token and the application state from the request, then
/// lets `check` turn them into the caller.
fn with_token<T, F, Fut>(
    req: &HttpRequest,
    check: F,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>>
where
    F: FnOnce(web::Data<AppState>, String) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    Box::pin(async move {
        let state =
            state.ok_or_else(|| ApiError::unauthorized("authentication is not configured"))?;
        check(state, token?).await
    })
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("log in first: send an Authorization: Bearer header")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be 'Bearer <token>'",
        )),
    }
}
