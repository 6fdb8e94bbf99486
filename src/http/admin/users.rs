//! Admins manage accounts: list, invite (the owner chooses their own
//! password from a link in an email), change role, organisation or status,
//! and send a sign-in link. No answer ever carries a password.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{patch, post, route};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::account::{LoginEmail, Role, User, UserId};
use crate::domain::organisation::{parse_name, OrganisationId};
use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::http::body::Body;
use crate::http::extract::AdminUser;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadId, BadQuery};
use crate::service::accounts::{self, AccountChanges, AccountFields};
use crate::service::sign_in::{self, Invited};
use chrono::{DateTime, Utc};

/// An account as admins see it (never its password or hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "coordinator@zwolle.nl")]
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The coordinator's organisation id; absent for admins.
    pub organisation_id: Option<i64>,
    /// Deactivated accounts cannot log in; their tokens stopped working.
    pub active: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id.0,
            email: u.email,
            name: u.name,
            role: u.role,
            organisation_id: u.organisation_id.map(|o| o.0),
            active: u.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// An account and the sign-in link just emailed to its owner.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitedView {
    pub user: UserView,
    /// When the emailed link stops working. The link itself goes only to
    /// the account's own address.
    pub link_expires_at: DateTime<Utc>,
}

impl From<Invited> for InvitedView {
    fn from(i: Invited) -> Self {
        InvitedView {
            user: UserView::from(i.user),
            link_expires_at: i.expires_at.and_utc(),
        }
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Only accounts with a higher id (the `nextAfter` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub after: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Every account
///
/// Accounts in the order they were made, with role, organisation and status;
/// never password hashes. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    params(UserListParams),
    responses(
        (status = 200, description = "A page of accounts", body = UserPage),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/users", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    let params = call.query::<UserListParams>()?;
    let after = params.get("after", |raw| raw.parse::<UserId>())?;
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let (users, next) = accounts::list_users(call.ctx(), admin.0, after, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(UserPage {
            items: users.into_iter().map(UserView::from).collect(),
            next_after: next.map(|id| id.0),
        }))
}

/// A new account: an admin, or a coordinator of one organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum CreateUser {
    /// Runs the service; belongs to no organisation.
    Admin {
        #[schema(
            max_length = 254,
            pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
            example = "beheer@meeloop.nl"
        )]
        email: String,
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
            example = "Bea Beheer"
        )]
        name: String,
    },
    /// Acts for one organisation.
    Coordinator {
        #[schema(
            max_length = 254,
            pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
            example = "coordinator@zwolle.nl"
        )]
        email: String,
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
            example = "Anne de Vries"
        )]
        name: String,
        #[serde(
            rename = "organisationId",
            deserialize_with = "crate::http::body::integer::required"
        )]
        #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
        organisation_id: i64,
    },
}

fn organisation(id: i64) -> Result<OrganisationId, ApiError> {
    OrganisationId::try_from(id).map_err(ApiError::field("organisationId"))
}

/// Invite someone
///
/// Creates a coordinator (of an organisation) or an admin (of none) without a
/// password, and emails the address a single-use link to choose one (valid
/// `auth.sign_in.invitation_hours`, a week by default); the email is in the
/// language of `Accept-Language`. Refused with `email_in_use` when the address
/// has an account. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created and invited", body = InvitedView),
        (status = 400, description = "A field is invalid, or role and organisation do not fit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email address has an account", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/users")]
pub async fn create(call: Call, admin: AdminUser, body: Body<CreateUser>) -> ApiResult {
    call.no_query()?;
    let (email, name, role, organisation_id) = match body.admitted()? {
        CreateUser::Admin { email, name } => (email, name, Role::Admin, None),
        CreateUser::Coordinator {
            email,
            name,
            organisation_id,
        } => (email, name, Role::Coordinator, Some(organisation_id)),
    };
    let account = AccountFields {
        email: LoginEmail::parse(&email).map_err(ApiError::field("email"))?,
        name: parse_name(&name).map_err(ApiError::field("name"))?,
        role,
        organisation: organisation_id.map(organisation).transpose()?,
    };
    let invited = sign_in::invite(call.ctx(), admin.0, call.client(), account, call.lang()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((LOCATION, format!("/api/v1/admin/users/{}", invited.user.id)))
        .json(InvitedView::from(invited)))
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserPatch {
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: Option<String>,
    /// Promoting to admin takes the account out of its organisation.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// Moves a coordinator to another organisation; `null` for an admin.
    #[serde(default, deserialize_with = "nullable_integer")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 9223372036854775807_i64)]
    pub organisation_id: Option<Option<i64>>,
    /// `false` deactivates the account and ends its sessions; `true` reactivates it.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// Absent → `None`; `null` → `Some(None)`; a whole number → `Some(Some(n))`.
fn nullable_integer<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    crate::http::body::integer::optional(d).map(Some)
}

/// Change an account
///
/// Renames an account, moves it to another organisation, changes its role,
/// deactivates or reactivates it. A change of role, organisation or status ends
/// its sessions. An admin cannot demote or deactivate themselves
/// (`own_account`). Admins only; audited.
#[utoipa::path(
    patch,
    tag = "admin",
    params(("id" = i64, Path, description = "User id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The account after the change", body = UserView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or no such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Admins cannot demote or deactivate themselves; or role and organisation would not fit", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[patch("/admin/users/{id}")]
pub async fn update(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<UserPatch>,
) -> ApiResult {
    call.no_query()?;
    let id: UserId = path("id", &id, str::parse)?;
    let body = body.admitted()?;
    let changes = AccountChanges {
        name: body
            .name
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(ApiError::field("name"))?,
        role: body.role,
        organisation: body
            .organisation_id
            .map(|o| o.map(organisation).transpose())
            .transpose()?,
        active: body.active,
    };
    let user = accounts::update_user(call.ctx(), admin.0, call.client(), id, changes).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Send a sign-in link
///
/// Emails the account a single-use link to choose a new password (valid
/// `auth.sign_in.reset_minutes`, an hour by default), or a new invitation while
/// its owner has not chosen one yet. Its sessions end when the link is used.
/// Nobody sees a password. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    params(("id" = i64, Path, description = "User id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 202, description = "The link is on its way", body = InvitedView),
        BadId,
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/users/{id}/password-reset")]
pub async fn reset_password(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let id: UserId = path("id", &id, str::parse)?;
    let sent =
        sign_in::send_link_by_admin(call.ctx(), admin.0, call.client(), id, call.lang()).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(InvitedView::from(sent)))
}
