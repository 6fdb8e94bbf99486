//! Logging in and out, and who am I.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::{delete, post, put, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::Body;
use super::organisations::OrganisationView;
use super::problem::{ApiError, Problem};
use crate::auth::jwt::{IssuedToken, LoginKind};
use crate::domain::account::{Password, Role};
use crate::domain::session::SessionKind;
use crate::http::extract::{CurrentSession, CurrentUser};
use crate::http::query::{path, positive_id};
use crate::http::responses::{BadId, BadQuery, Guarded, Unavailable};
use crate::service::accounts;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(
        example = "coordinator@sudwestfryslan.example",
        min_length = 3,
        max_length = 254
    )]
    pub email: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// For an account with two-step verification: the six digits from the
    /// authenticator app, or one of the recovery codes.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, example = "123456")]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
}

/// Log in
///
/// Exchanges email address and password for a bearer token valid for about an
/// hour. One answer (`bad_credentials`) for an unknown address, a wrong
/// password and a deactivated account; rate-limited per client address and per
/// account (429 with `Retry-After`); audited. An account with two-step
/// verification sends `code` too (`second_step_needed` without it,
/// `bad_second_step` for a wrong or used one; codes are rate-limited
/// separately); an admin who has not turned it on while it is required gets
/// `two_step_required`.
#[utoipa::path(
    post,
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "The body is not a login request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email address or password (the answer does not say which), or the second step is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An admin who must turn on two-step verification first", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[post("/auth/login")]
pub async fn login(call: Call, body: Body<LoginRequest>) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let logged_in = accounts::login(
        call.ctx(),
        call.state().jwt.clone(),
        &call.state().login_limiter,
        call.origin(),
        body.email,
        body.password,
        body.code,
        LoginKind::Api,
    )
    .await?;
    match logged_in {
        accounts::LoggedIn::Session(_, token) => Ok(token_response(token)),
        // Only pages get a second step of their own.
        accounts::LoggedIn::SecondStep(_) => {
            let refusal = crate::domain::refusal::AccountRefusal::SecondStepNeeded;
            Err(crate::service::ServiceError::from(refusal).into())
        }
    }
}

fn token_response(token: IssuedToken) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: token.token,
            token_type: "Bearer",
            expires_in: token.ttl_secs,
            expires_at: DateTime::from_timestamp(token.expires_at, 0).unwrap_or_default(),
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// 12 to 128 characters; used whole, never truncated.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Change your password
///
/// Changes the caller's own password. Every token issued so far stops working;
/// the answer carries a fresh one. Refused with `wrong_current_password` when
/// `currentPassword` is wrong; rate-limited; audited.
#[utoipa::path(
    put,
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; a new token replaces the old ones", body = TokenResponse),
        (status = 400, description = "The new password does not meet the policy", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The current password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[put("/me/password")]
pub async fn change_password(
    call: Call,
    user: CurrentUser,
    body: Body<PasswordChange>,
) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let new = Password::parse(&body.new_password)
        .map_err(|e| ApiError::invalid_field("newPassword", &e))?;
    let token = accounts::change_password(
        call.ctx(),
        call.state().jwt.clone(),
        &call.state().login_limiter,
        user.0,
        call.origin(),
        body.current_password,
        new,
    )
    .await?;
    Ok(token_response(token))
}

/// Log out everywhere
///
/// Every token issued to this user so far stops working, on every device.
/// Audited.
#[utoipa::path(
    post,
    tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        BadQuery,
        Guarded,
    )
)]
#[post("/auth/logout")]
pub async fn logout(call: Call, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    accounts::logout(call.ctx(), user.0.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeView {
    #[schema(example = 1)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The coordinator's organisation; absent for admins.
    pub organisation: Option<OrganisationView>,
}

/// The logged-in user
///
/// The account behind the bearer token: name, email address, role and
/// organisation.
#[utoipa::path(
    get,
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = MeView),
        BadQuery,
        Guarded,
    )
)]
#[route("/me", method = "GET", method = "HEAD")]
pub async fn me(call: Call, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let (user, organisation) = accounts::me(call.ctx(), user.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(MeView {
            id: user.id.0,
            email: user.email,
            name: user.name,
            role: user.role,
            organisation: organisation.map(OrganisationView::from),
        }))
}

/// One of the caller's sessions: a browser or a program that logged in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// Pass to `DELETE /api/v1/me/sessions/{id}` to end it.
    #[schema(example = 12)]
    pub id: i64,
    pub kind: SessionKind,
    pub created_at: DateTime<Utc>,
    /// Written down at most once a minute.
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end (a browser session also ends after
    /// `auth.idle_timeout_minutes` without use).
    pub expires_at: DateTime<Utc>,
    /// The client's address at login.
    pub address: Option<String>,
    /// Browser and system (or program), from its `User-Agent`, in the language
    /// of `Accept-Language`.
    #[schema(example = "Firefox on Windows")]
    pub device: String,
    /// The session of this request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

/// Your sessions
///
/// Every browser session and API token of the caller that still lets them in,
/// most recently used first.
#[utoipa::path(
    get,
    tag = "auth",
    responses(
        (status = 200, description = "The caller's open sessions", body = SessionList),
        BadQuery,
        Guarded,
    )
)]
#[route("/me/sessions", method = "GET", method = "HEAD")]
pub async fn sessions(call: Call, caller: CurrentSession) -> ApiResult {
    call.no_query()?;
    let lang = call.lang();
    let sessions = accounts::own_sessions(call.ctx(), &caller.0).await?;
    let items = sessions
        .into_iter()
        .map(|own| SessionView {
            id: own.session.id,
            kind: own.session.kind,
            created_at: own.session.created_at.and_utc(),
            last_seen_at: own.session.last_seen_at.and_utc(),
            expires_at: own.session.expires_at.and_utc(),
            device: own.session.device(lang),
            address: own.session.address,
            current: own.current,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(SessionList { items }))
}

/// End a session
///
/// Ends one of the caller's sessions (another browser, a program's token, or
/// this one); its token stops working at once. `unknown_session` for a
/// session that is not theirs or had ended. Audited.
#[utoipa::path(
    delete,
    tag = "auth",
    params(("id" = i64, Path, description = "Session id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 204, description = "Ended"),
        BadId,
        (status = 404, description = "Not one of your open sessions", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[delete("/me/sessions/{id}")]
pub async fn end_session(call: Call, id: web::Path<String>, caller: CurrentSession) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    accounts::end_sessions(
        call.ctx(),
        &caller.0,
        accounts::Ending::One(id),
        call.client(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
