//! Logging in and out, and who am I.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::HttpResponse;
use actix_web::{post, put, route};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::Body;
use super::organisations::OrganisationView;
use super::problem::{ApiError, Problem};
use crate::auth::jwt::{IssuedToken, LoginKind};
use crate::domain::account::{Password, Role};
use crate::http::extract::CurrentUser;
use crate::http::responses::{BadQuery, Guarded, Unavailable};
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
/// account (429 with `Retry-After`); audited.
#[utoipa::path(
    post,
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "The body is not a login request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email address or password (the answer does not say which)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[post("/auth/login")]
pub async fn login(call: Call, body: Body<LoginRequest>) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let address = call.client();
    let (_, token) = accounts::login(
        call.ctx(),
        call.state().jwt.clone(),
        &call.state().login_limiter,
        address,
        body.email,
        body.password,
        LoginKind::Api,
    )
    .await?;
    Ok(token_response(token))
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
        call.client(),
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
