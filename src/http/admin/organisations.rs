//! Admins add organisations one at a time (the importer does many),
//! deactivate and reactivate them, and see the directory with contact
//! addresses and deactivated organisations.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{patch, post, route};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::import::Stored;
use crate::domain::organisation::{
    parse_capacity, parse_name, parse_province, parse_size, ContactEmail, Coordinates, Language,
    Organisation, OrganisationCode, OrganisationId, OrganisationKind, DEFAULT_MONTHLY_CAPACITY,
};
use crate::domain::Invalid;
use crate::http::body::{integer, Body};
use crate::http::extract::AdminUser;
use crate::http::organisations::{list_query, ListParams, OrganisationView, Province};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::{documented, path};
use crate::http::responses::{AdminOnly, BadQuery, JsonBody};
use crate::service::admin::{self, NewOrganisation};

/// An organisation as admins see it: with its contact address and status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminOrganisationView {
    #[serde(flatten)]
    pub organisation: OrganisationView,
    /// Where invitations go.
    pub contact_email: Option<String>,
    /// Deactivated organisations are hidden from the directory and matching.
    pub active: bool,
}

impl From<Organisation> for AdminOrganisationView {
    fn from(o: Organisation) -> Self {
        AdminOrganisationView {
            contact_email: o.contact_email.clone(),
            active: o.active,
            organisation: OrganisationView::from(o),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminOrganisationPage {
    pub items: Vec<AdminOrganisationView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusParam {
    /// Only active (`true`) or only deactivated (`false`) organisations; both when absent.
    pub active: Option<bool>,
}

fn parse_bool(raw: &str) -> Result<bool, Invalid> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Invalid::new(format!("expected true or false, not '{raw}'"))),
    }
}

/// The whole directory, for admins
///
/// Every organisation, deactivated ones included, with contact addresses (which
/// the public directory leaves out). Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    params(ListParams, StatusParam),
    responses(
        (status = 200, description = "A page of organisations, ordered by name", body = AdminOrganisationPage),
        BadQuery,
        (status = 404, description = "The topic filter names a topic that does not exist", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/organisations", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    let names = [documented::<ListParams>(), documented::<StatusParam>()];
    let params = call.query_named(&names)?;
    let mut query = list_query(&params)?;
    query.active = params.get("active", parse_bool)?;
    let page = admin::list_organisations(call.ctx(), admin.0, query).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AdminOrganisationPage {
            items: page
                .items
                .into_iter()
                .map(AdminOrganisationView::from)
                .collect(),
            next_cursor: page.next_cursor,
        }))
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrganisation {
    /// CBS code (`GM` and four digits) for a municipality; for others any
    /// stable code of 2 to 32 letters, digits, `-`, `_` or `.`. Stored upper case.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$", example = "GM0193")]
    pub code: String,
    pub kind: OrganisationKind,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "Zwolle"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<Province>)]
    pub province: Option<String>,
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 0, maximum = 100000000, example = 130000)]
    pub size: i64,
    #[schema(minimum = -90, maximum = 90, example = 52.51)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 6.09)]
    pub longitude: f64,
    /// Where invitations go. Never shown publicly.
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
        example = "meeloop@zwolle.nl"
    )]
    pub contact_email: Option<String>,
    /// Default `nl`.
    #[serde(default)]
    pub language: Option<Language>,
    /// Default 2.
    #[serde(default, deserialize_with = "integer::optional")]
    #[schema(minimum = 0, maximum = 31, example = 2)]
    pub monthly_hosting_capacity: Option<i64>,
}

impl CreateOrganisation {
    fn parse(self) -> Result<NewOrganisation, ApiError> {
        let field = ApiError::field;
        let position = Coordinates::new(self.latitude, self.longitude)
            .map_err(|e| ApiError::bad_request("invalid_field", e.to_string()))?;
        Ok(NewOrganisation {
            code: OrganisationCode::parse(&self.code, self.kind).map_err(field("code"))?,
            fields: Stored {
                kind: self.kind,
                name: parse_name(&self.name).map_err(field("name"))?,
                province: self
                    .province
                    .as_deref()
                    .map(parse_province)
                    .transpose()
                    .map_err(field("province"))?
                    .map(str::to_string),
                size: parse_size(&self.size.to_string()).map_err(field("size"))?,
                latitude: position.latitude,
                longitude: position.longitude,
                contact_email: self
                    .contact_email
                    .as_deref()
                    .map(ContactEmail::parse)
                    .transpose()
                    .map_err(field("contactEmail"))?
                    .map(|e| e.as_str().to_string()),
                language: self.language.unwrap_or(Language::Nl),
            },
            monthly_capacity: self
                .monthly_hosting_capacity
                .map(parse_capacity)
                .transpose()
                .map_err(field("monthlyHostingCapacity"))?
                .unwrap_or(DEFAULT_MONTHLY_CAPACITY),
        })
    }
}

/// Add one organisation
///
/// Adds an organisation to the directory; for many at once use `meeloop import
/// organisations` or the admin page's CSV upload. A municipality's code is its
/// CBS code (`GM0363`). Refused with `organisation_code_in_use` when the code
/// exists. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    request_body = CreateOrganisation,
    responses(
        (status = 201, description = "Created; `Location` names it", body = AdminOrganisationView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An organisation with this code exists", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/organisations")]
pub async fn create(call: Call, admin: AdminUser, body: Body<CreateOrganisation>) -> ApiResult {
    call.no_query()?;
    let new = body.admitted()?.parse()?;
    let organisation = admin::create_organisation(call.ctx(), admin.0, call.client(), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/organisations/{}", organisation.id),
        ))
        .json(AdminOrganisationView::from(organisation)))
}

/// An organisation's status. Profile fields are changed with
/// `PATCH /api/v1/organisations/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganisationStatus {
    /// `false` hides it from the directory and matching and stops its
    /// coordinators' access; `true` brings it back.
    pub active: bool,
}

/// Deactivate or reactivate an organisation
///
/// A deactivated organisation leaves the public directory and matching, and its
/// coordinators can no longer log in; its history stays. Admins only; audited.
#[utoipa::path(
    patch,
    tag = "admin",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = OrganisationStatus,
    responses(
        (status = 200, description = "The organisation after the change", body = AdminOrganisationView),
        (status = 400, description = "A malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[patch("/admin/organisations/{id}")]
pub async fn set_status(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<OrganisationStatus>,
) -> ApiResult {
    call.no_query()?;
    let id: OrganisationId = path("id", &id, str::parse)?;
    let organisation = admin::set_organisation_active(
        call.ctx(),
        admin.0,
        call.client(),
        id,
        body.admitted()?.active,
    )
    .await?;
    Ok(HttpResponse::Ok().json(AdminOrganisationView::from(organisation)))
}

/// Which organisation this one goes into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The code of the organisation it goes into.
    #[schema(max_length = 32, example = "GM1966")]
    pub into: String,
}

/// What moved in a merger.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeView {
    /// Name and code of the organisation that went.
    #[schema(example = "Appingedam (GM0003)")]
    pub from: String,
    /// Name and code of the one it went into.
    #[schema(example = "Eemsdelta (GM1979)")]
    pub into: String,
    pub into_id: i64,
    #[serde(flatten)]
    pub moved: crate::domain::merger::Moved,
}

/// Merge an organisation into another
///
/// A municipal merger (gemeentelijke herindeling): the organisation goes
/// into the one with code `into`, with its expertise (combined where both
/// know a topic), visit history, lessons and so its reputation, accounts and
/// the links in emails already sent. It is retired: `GET
/// /organisations/{id}` answers 404 `merged` naming the new one. Refused
/// with `cannot_merge` into itself, into an inactive organisation, twice,
/// or when both have a visit booked on the same day. Audited.
#[utoipa::path(
    post,
    tag = "admin",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged", body = MergeView),
        (status = 404, description = "No such organisation or code", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not two different active organisations, or a day both have booked", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        AdminOnly,
    )
)]
#[post("/admin/organisations/{id}/merge")]
pub async fn merge(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<MergeRequest>,
) -> ApiResult {
    call.no_query()?;
    let old = crate::service::merger::Old::Id(path("id", &id, str::parse)?);
    let into = body.admitted()?.into;
    let merged =
        crate::service::merger::merge_for_admin(call.ctx(), admin.0, call.client(), old, into)
            .await?;
    Ok(HttpResponse::Ok().json(MergeView {
        from: merged.from,
        into: merged.into,
        into_id: merged.into_id,
        moved: merged.moved,
    }))
}
