//! Invitations by coordinators and "forgot password" over the API. The
//! links these emails carry lead to pages (`web::sign_in`): choosing a
//! password happens in a browser, never in an API answer.

use actix_web::http::header::LOCATION;
use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::admin::users::InvitedView;
use super::body::Body;
use super::call::Call;
use super::extract::CurrentUser;
use super::problem::{ApiError, Problem};
use super::query::path;
use super::responses::{Guarded, JsonBody};
use super::ApiResult;
use crate::domain::account::{LoginEmail, Role};
use crate::domain::organisation::{parse_name, OrganisationId};
use crate::service::accounts::AccountFields;
use crate::service::sign_in;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's address. Any text is answered alike: one that no
    /// account can have gets the same `202` (and no email).
    #[schema(min_length = 1, max_length = 254, example = "coordinator@zwolle.nl")]
    pub email: String,
}

/// Forgot password
///
/// Emails the account with this address a single-use link to choose a new
/// password, valid for about an hour (`auth.sign_in.reset_minutes`); using it
/// ends every session and token of the account. The answer is the same, and
/// as fast, whether or not the address has an account (or could have one). Rate-limited per client
/// address and per address asked about (429 with `Retry-After`); audited. The
/// email is in the language of `Accept-Language`.
#[utoipa::path(
    post,
    tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        JsonBody,
        (status = 429, description = "Too many requests from this address or for this account; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn forgot_password(call: Call, body: Body<ResetRequest>) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    if !(1..=254).contains(&body.email.chars().count()) {
        let e = crate::domain::Invalid::new("must be 1 to 254 characters");
        return Err(ApiError::field("email")(e));
    }
    sign_in::forgot_password(
        call.ctx(),
        &call.state().reset_limiter,
        call.client(),
        &body.email,
        call.lang(),
    )
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// A colleague to invite as coordinator of the organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
        example = "collega@zwolle.nl"
    )]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "Bert Jansen"
    )]
    pub name: String,
}

/// Invite a colleague
///
/// Makes a coordinator account in this organisation without a password and
/// emails the address a single-use link to choose one. Admins may for any
/// organisation; a coordinator for their own, when the operator has turned on
/// `auth.sign_in.coordinators_invite` (`may_not_invite` otherwise). Refused
/// with `email_in_use` when the address has an account. Audited.
#[utoipa::path(
    post,
    tag = "auth",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = NewMember,
    responses(
        (status = 201, description = "Created and invited", body = InvitedView),
        JsonBody,
        (status = 403, description = "Not yours to invite into", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email address has an account", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[post("/organisations/{id}/members")]
pub async fn invite_member(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<NewMember>,
) -> ApiResult {
    call.no_query()?;
    let organisation: OrganisationId = path("id", &id, str::parse)?;
    sign_in::may_invite_into(call.ctx(), &user.0, organisation)?;
    let body = body.admitted()?;
    let account = AccountFields {
        email: LoginEmail::parse(&body.email).map_err(ApiError::field("email"))?,
        name: parse_name(&body.name).map_err(ApiError::field("name"))?,
        role: Role::Coordinator,
        organisation: Some(organisation),
    };
    let invited = sign_in::invite(call.ctx(), user.0, call.client(), account, call.lang()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            LOCATION,
            format!("/api/v1/organisations/{}", organisation.0),
        ))
        .json(InvitedView::from(invited)))
}
