//! Partner programs: client credentials for a token, and who am I.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::HttpResponse;
use actix_web::{post, route};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{self, Raw};
use super::problem::{ApiError, Problem};
use crate::domain::partner::Scopes;
use crate::http::extract::CurrentPartner;
use crate::http::responses::{BadQuery, Guarded, Unavailable};
use crate::service::partners;

/// OAuth2 client-credentials request (RFC 6749 §4.4), as JSON or as
/// `application/x-www-form-urlencoded`; field names follow OAuth2.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(pattern = "^client_credentials$", example = "client_credentials")]
    pub grant_type: String,
    #[schema(min_length = 1, max_length = 200, example = "mp_0123456789abcdef")]
    pub client_id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub client_secret: String,
    /// Scopes wanted, separated by spaces; default all of the client's.
    /// May be left out, but is never `null`.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(
        nullable = false,
        pattern = "^[ ,]*((organisations|lessons|stats):read|webhooks:manage)([ ,]+((organisations|lessons|stats):read|webhooks:manage))*[ ,]*$",
        example = "organisations:read"
    )]
    pub scope: Option<String>,
}

/// OAuth2 token response (RFC 6749 §5.1); field names follow OAuth2.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerTokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: i64,
    #[schema(example = "organisations:read stats:read")]
    pub scope: String,
}

/// Partner token
///
/// OAuth 2.0 client credentials grant (RFC 6749 §4.4): exchanges a partner's
/// client id and secret for a short-lived bearer token with the client's
/// scopes, or fewer (`scope`). Form-encoded or JSON; errors in the OAuth shape.
/// Rate-limited; audited.
#[utoipa::path(
    post,
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A partner token", body = PartnerTokenResponse),
        (status = 400, description = "Not a valid client-credentials request, or more scope than the client has", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown client, wrong secret or revoked client", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[post("/auth/token")]
pub async fn token(call: Call, raw: Raw) -> ApiResult {
    call.no_query()?;
    let form = call
        .req()
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let request: TokenRequest = if form {
        body::parse_form(&raw.0)?
    } else {
        body::parse(&raw.0)?
    };
    if request.grant_type != "client_credentials" {
        return Err(ApiError::bad_request(
            "unsupported_grant_type",
            format!(
                "grant_type '{}' is not supported; use client_credentials",
                request.grant_type
            ),
        ));
    }
    let scopes = request
        .scope
        .as_deref()
        .map(Scopes::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("scope", &e))?;
    let (token, scopes) = partners::issue_token(
        call.ctx(),
        call.state().jwt.clone(),
        &call.state().login_limiter,
        call.client(),
        request.client_id,
        request.client_secret,
        scopes,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PartnerTokenResponse {
            access_token: token.token,
            token_type: "Bearer",
            expires_in: token.ttl_secs,
            scope: scopes.to_string(),
        }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerView {
    #[schema(example = "mp_0123456789abcdef")]
    pub client_id: String,
    pub name: String,
    /// The scopes of the token used.
    pub scopes: Vec<String>,
}

/// The calling partner
///
/// The partner client behind a partner token and the scopes the token carries.
#[utoipa::path(
    get,
    tag = "auth",
    responses(
        (status = 200, description = "The calling partner", body = PartnerView),
        BadQuery,
        Guarded,
    )
)]
#[route("/partner", method = "GET", method = "HEAD")]
pub async fn me(call: Call, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let partner = partner.0;
    Ok(HttpResponse::Ok().json(PartnerView {
        client_id: partner.client_id,
        name: partner.name,
        scopes: partner
            .scopes
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
    }))
}
