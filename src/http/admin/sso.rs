//! Admins set up single sign-on: which organisation (and provider) an email
//! domain belongs to, which account a provider's subject is, and whether an
//! organisation still allows password login.

use actix_web::{delete, put, route, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::account::UserId;
use crate::domain::organisation::OrganisationId;
use crate::http::body::Body;
use crate::http::call::Call;
use crate::http::extract::AdminUser;
use crate::http::problem::Problem;
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadQuery, JsonBody};
use crate::http::ApiResult;
use crate::service::sso;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    /// As in `/login/sso/{id}`.
    #[schema(example = "entra")]
    pub id: String,
    #[schema(example = "Microsoft Entra ID van Zwolle")]
    pub name: String,
    pub issuer: String,
    /// Whether someone unknown from a mapped domain gets an account at their
    /// first sign-in.
    pub create_accounts: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainView {
    #[schema(example = "zwolle.nl")]
    pub domain: String,
    pub organisation_id: i64,
    pub provider: String,
}

impl From<crate::domain::account::DomainMapping> for DomainView {
    fn from(m: crate::domain::account::DomainMapping) -> Self {
        DomainView {
            domain: m.domain,
            organisation_id: m.organisation.0,
            provider: m.provider,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SsoOverview {
    pub providers: Vec<ProviderView>,
    pub domains: Vec<DomainView>,
}

/// Single sign-on
///
/// The configured identity providers and the email domains mapped to
/// organisations. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    responses(
        (status = 200, description = "Providers and domain mappings", body = SsoOverview),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/sso", method = "GET", method = "HEAD")]
pub async fn overview(call: Call, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let o = sso::overview(call.ctx(), &admin.0).await?;
    Ok(HttpResponse::Ok().json(SsoOverview {
        providers: o
            .providers
            .into_iter()
            .map(|(id, name, issuer, create_accounts)| ProviderView {
                id,
                name,
                issuer,
                create_accounts,
            })
            .collect(),
        domains: o.domains.into_iter().map(DomainView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DomainMappingRequest {
    #[serde(deserialize_with = "crate::http::body::integer::required")]
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub organisation_id: i64,
    /// A configured provider's id.
    #[schema(max_length = 32, example = "entra")]
    pub provider: String,
}

/// Map an email domain
///
/// People with an address at this domain belong to this organisation and sign
/// in through this provider: at their first sign-in an account with a
/// verified address of the domain is linked (a coordinator of that
/// organisation only), or made when the provider may create accounts.
/// Replaces an earlier mapping. Admins only; audited.
#[utoipa::path(
    put,
    tag = "admin",
    params(("domain" = String, Path, description = "The email domain", max_length = 253, pattern = "^[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})+$", example = "zwolle.nl")),
    request_body = DomainMappingRequest,
    responses(
        (status = 200, description = "Mapped", body = DomainView),
        JsonBody,
        (status = 404, description = "No such provider or organisation", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[put("/admin/sso/domains/{domain}")]
pub async fn map_domain(
    call: Call,
    domain: web::Path<String>,
    admin: AdminUser,
    body: Body<DomainMappingRequest>,
) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let organisation = OrganisationId::try_from(body.organisation_id)
        .map_err(crate::http::problem::ApiError::field("organisationId"))?;
    let mapping = sso::map_domain(
        call.ctx(),
        admin.0,
        call.client(),
        &domain,
        organisation,
        &body.provider,
    )
    .await?;
    Ok(HttpResponse::Ok().json(DomainView::from(mapping)))
}

/// Remove a domain mapping
///
/// Accounts linked already stay linked. Admins only; audited.
#[utoipa::path(
    delete,
    tag = "admin",
    params(("domain" = String, Path, description = "The email domain", max_length = 253, pattern = "^[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})+$", example = "zwolle.nl")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not an email domain, or an unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The domain has no mapping", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[delete("/admin/sso/domains/{domain}")]
pub async fn unmap_domain(call: Call, domain: web::Path<String>, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    sso::unmap_domain(call.ctx(), admin.0, call.client(), &domain).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectLink {
    #[schema(max_length = 32, example = "entra")]
    pub provider: String,
    /// The provider's `sub` for this person.
    #[schema(
        min_length = 1,
        max_length = 255,
        example = "8f14e45f-ceea-467f-a0e6-0e0b5a1c2d3e"
    )]
    pub subject: String,
}

/// Link an account to a provider's subject
///
/// From now on this provider's sign-in with this `sub` is this account,
/// whatever its address (the way for admins, and for addresses of unmapped
/// domains). Admins only; audited.
#[utoipa::path(
    put,
    tag = "admin",
    params(("id" = i64, Path, description = "User id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = SubjectLink,
    responses(
        (status = 204, description = "Linked"),
        JsonBody,
        (status = 404, description = "No such account or provider", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[put("/admin/users/{id}/sso")]
pub async fn link_subject(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<SubjectLink>,
) -> ApiResult {
    call.no_query()?;
    let id: UserId = path("id", &id, str::parse)?;
    let body = body.admitted()?;
    sso::link_subject(
        call.ctx(),
        admin.0,
        call.client(),
        id,
        &body.provider,
        &body.subject,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordLogin {
    /// `false`: the organisation's coordinators sign in through its identity
    /// provider only (`password_login_off`); `true` allows passwords again.
    pub allowed: bool,
}

/// Allow or refuse password login for an organisation
///
/// Once an organisation's single sign-on works, password login can be switched
/// off for its coordinators. Sessions already started stay. Admins only;
/// audited.
#[utoipa::path(
    put,
    tag = "admin",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = PasswordLogin,
    responses(
        (status = 204, description = "Set"),
        JsonBody,
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[put("/admin/organisations/{id}/password-login")]
pub async fn password_login(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<PasswordLogin>,
) -> ApiResult {
    call.no_query()?;
    let id: OrganisationId = path("id", &id, str::parse)?;
    let allowed = body.admitted()?.allowed;
    sso::set_password_login(call.ctx(), admin.0, call.client(), id, allowed).await?;
    Ok(HttpResponse::NoContent().finish())
}
