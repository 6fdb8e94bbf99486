//! The public organisation directory.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::{delete, patch, put, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::{integer, Body};
use super::problem::{ApiError, Problem};
use super::query::{path, QueryParams};
use super::topics::TopicSummary;
use crate::domain::organisation::{
    parse_capacity, parse_name, parse_province, parse_size, ContactEmail, Language, Organisation,
    OrganisationId, OrganisationKind, SizeUnit,
};
use crate::domain::pagination::{parse_limit, Cursor, DEFAULT_LIMIT};
use crate::domain::topic::{Expertise, TopicSlug};
use crate::domain::Invalid;
use crate::http::extract::CurrentUser;
use crate::http::responses::{BadId, BadQuery, Guarded, Unavailable};
use crate::service::directory::{self, OrganisationQuery};
use crate::service::profile::{self, ExpertiseInput, ProfileChanges};

/// An organisation as the public sees it: no contact details.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationView {
    #[schema(example = 1)]
    pub id: i64,
    /// CBS code for municipalities, a stable identifier for others.
    #[schema(example = "GM0363")]
    pub code: String,
    pub kind: OrganisationKind,
    #[schema(example = "Amsterdam")]
    pub name: String,
    #[schema(example = "Noord-Holland")]
    pub province: Option<String>,
    /// Inhabitants, rental homes or employees (see `sizeUnit`).
    #[schema(example = 931298)]
    pub size: i64,
    pub size_unit: SizeUnit,
    #[schema(example = 52.36489)]
    pub latitude: f64,
    #[schema(example = 4.90872)]
    pub longitude: f64,
    /// Preferred language for invitations and pages.
    pub language: Language,
    /// How many shadow visits it can host per month.
    #[schema(example = 2)]
    pub monthly_hosting_capacity: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        OrganisationView {
            id: o.id.0,
            size_unit: o.kind.size_unit(),
            code: o.code,
            kind: o.kind,
            name: o.name,
            province: o.province,
            size: o.size,
            latitude: o.latitude,
            longitude: o.longitude,
            language: o.language,
            monthly_hosting_capacity: o.monthly_capacity,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationPage {
    pub items: Vec<OrganisationView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of the directory listing: documented, and the only names the
/// strict parser accepts ([`QueryParams::of`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only organisations of this kind.
    pub kind: Option<OrganisationKind>,
    /// Only organisations in this province.
    #[param(inline)]
    pub province: Option<Province>,
    /// Only organisations with expertise on this topic (a topic slug).
    #[param(
        pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$",
        example = "cloud-migration"
    )]
    pub topic: Option<String>,
    /// Part of the name; case, accents and punctuation are ignored.
    #[param(min_length = 1, max_length = 200, example = "fryslan")]
    pub q: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(
        pattern = "^[a-z0-9_]{0,400}\\.[0-9]{1,18}$",
        example = "s_gravenhage.42"
    )]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<i64>,
}

/// The twelve provinces, in CBS spelling (the API also accepts them without
/// accents and in any case).
#[derive(ToSchema)]
pub enum Province {
    Drenthe,
    Flevoland,
    #[schema(rename = "Fryslân")]
    Fryslan,
    Gelderland,
    Groningen,
    Limburg,
    #[schema(rename = "Noord-Brabant")]
    NoordBrabant,
    #[schema(rename = "Noord-Holland")]
    NoordHolland,
    Overijssel,
    Utrecht,
    Zeeland,
    #[schema(rename = "Zuid-Holland")]
    ZuidHolland,
}

/// The directory filters, shared with the admin listing; only active
/// organisations unless the caller says otherwise.
pub(super) fn list_query(params: &QueryParams) -> Result<OrganisationQuery, ApiError> {
    Ok(OrganisationQuery {
        kind: params.get("kind", str::parse)?,
        province: params.get("province", parse_province)?,
        topic: params.get("topic", TopicSlug::parse)?,
        q: params.get("q", parse_search)?,
        cursor: params.get("cursor", Cursor::decode)?,
        limit: params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT),
        active: Some(true),
    })
}

/// The directory
///
/// Organisations in the directory by name, filtered by kind, province, topic
/// and text, a page at a time (`limit`, `after`). Public; contact addresses are
/// left out.
#[utoipa::path(
    get,
    tag = "directory",
    params(ListParams),
    responses(
        (status = 200, description = "A page of organisations, ordered by name", body = OrganisationPage),
        BadQuery,
        (status = 404, description = "The topic filter names a topic that does not exist", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[route("/organisations", method = "GET", method = "HEAD")]
pub async fn list(call: Call) -> ApiResult {
    let params = call.query::<ListParams>()?;
    let query = list_query(&params)?;
    let page = directory::list_organisations(call.ctx(), query).await?;
    Ok(HttpResponse::Ok().json(OrganisationPage {
        items: page.items.into_iter().map(OrganisationView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn parse_search(q: &str) -> Result<String, Invalid> {
    match q.chars().count() {
        0 => Err(Invalid::new(
            "q must not be empty; leave it out to list everything",
        )),
        1..=200 => Ok(q.to_string()),
        _ => Err(Invalid::new("q must be at most 200 characters")),
    }
}

/// One organisation
///
/// One organisation of the directory with its profile. Public; the contact
/// address is left out.
#[utoipa::path(
    get,
    tag = "directory",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The organisation", body = OrganisationView),
        BadId,
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[route("/organisations/{id}", method = "GET", method = "HEAD")]
pub async fn get(call: Call, id: web::Path<String>) -> ApiResult {
    call.no_query()?;
    let id: OrganisationId = path("id", &id, str::parse)?;
    let organisation = directory::get_organisation(call.ctx(), id).await?;
    Ok(HttpResponse::Ok().json(OrganisationView::from(organisation)))
}

/// What an organisation knows about one topic.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpertiseView {
    pub topic: TopicSummary,
    /// Maturity from 1 (just starting) to 5 (done, and could teach it).
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub level: u8,
    /// What they did, in their own words.
    pub summary: String,
    #[schema(example = 2021)]
    pub since_year: Option<i32>,
    /// Whether they are willing to host shadow visits on this topic.
    pub willing_to_host: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<Expertise> for ExpertiseView {
    fn from(e: Expertise) -> Self {
        ExpertiseView {
            topic: TopicSummary::from(e.topic),
            level: e.level.get(),
            summary: e.summary,
            since_year: e.since_year,
            willing_to_host: e.willing_to_host,
            updated_at: e.updated_at,
        }
    }
}

/// An organisation's expertise
///
/// Its expertise per topic: maturity level (1 to 5), since when, a summary and
/// whether it hosts visits on it. Public.
#[utoipa::path(
    get,
    tag = "directory",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "Expertise by topic slug", body = Vec<ExpertiseView>),
        BadId,
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        Unavailable,
    )
)]
#[route("/organisations/{id}/expertise", method = "GET", method = "HEAD")]
pub async fn expertise(call: Call, id: web::Path<String>) -> ApiResult {
    call.no_query()?;
    let id: OrganisationId = path("id", &id, str::parse)?;
    let expertise = directory::organisation_expertise(call.ctx(), id).await?;
    Ok(HttpResponse::Ok().json(
        expertise
            .into_iter()
            .map(ExpertiseView::from)
            .collect::<Vec<_>>(),
    ))
}

/// Changes to an organisation's profile; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganisationPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "Gemeente Zwolle"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<Province>)]
    pub province: Option<String>,
    #[serde(default, deserialize_with = "integer::optional")]
    #[schema(minimum = 0, maximum = 100000000, example = 130000)]
    pub size: Option<i64>,
    #[schema(minimum = -90, maximum = 90, example = 52.51)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180, example = 6.09)]
    pub longitude: Option<f64>,
    /// Where invitations go. Never shown publicly.
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,38}[A-Za-z0-9])?){1,3}$",
        example = "meeloop@zwolle.nl"
    )]
    pub contact_email: Option<String>,
    pub language: Option<Language>,
    /// Shadow visits it can host per month.
    #[serde(default, deserialize_with = "integer::optional")]
    #[schema(minimum = 0, maximum = 31, example = 2)]
    pub monthly_hosting_capacity: Option<i64>,
}

impl OrganisationPatch {
    fn parse(self) -> Result<ProfileChanges, ApiError> {
        let field = ApiError::field;
        Ok(ProfileChanges {
            name: self
                .name
                .as_deref()
                .map(parse_name)
                .transpose()
                .map_err(field("name"))?,
            province: self
                .province
                .as_deref()
                .map(parse_province)
                .transpose()
                .map_err(field("province"))?,
            size: self
                .size
                .map(|s| parse_size(&s.to_string()))
                .transpose()
                .map_err(field("size"))?,
            latitude: self.latitude,
            longitude: self.longitude,
            contact_email: self
                .contact_email
                .as_deref()
                .map(ContactEmail::parse)
                .transpose()
                .map_err(field("contactEmail"))?,
            language: self.language,
            monthly_capacity: self
                .monthly_hosting_capacity
                .map(parse_capacity)
                .transpose()
                .map_err(field("monthlyHostingCapacity"))?,
        })
    }
}

/// Edit an organisation's profile
///
/// Changes name, contact address, size, monthly capacity and the like.
/// Coordinators their own organisation, admins any; for anyone else the
/// organisation does not exist (`unknown_organisation`). Audited.
#[utoipa::path(
    patch,
    tag = "directory",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = OrganisationPatch,
    responses(
        (status = 200, description = "The organisation after the change", body = OrganisationView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not yours", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[patch("/organisations/{id}")]
pub async fn patch(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<OrganisationPatch>,
) -> ApiResult {
    call.no_query()?;
    let id: OrganisationId = path("id", &id, str::parse)?;
    let changes = body
        .after(async { profile::may_edit(&user.0, id) })
        .await?
        .parse()?;
    let organisation =
        profile::update_organisation(call.ctx(), user.0, call.client(), id, changes).await?;
    Ok(HttpResponse::Ok().json(OrganisationView::from(organisation)))
}

/// What an organisation says it knows about a topic.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpertiseBody {
    /// Maturity from 1 (just starting) to 5 (done, and could teach it).
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub level: i64,
    /// What they did, in their own words.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub summary: String,
    #[serde(default, deserialize_with = "integer::optional")]
    #[schema(minimum = 1900, maximum = 2200, example = 2021)]
    pub since_year: Option<i64>,
    /// Whether they are willing to host shadow visits on this topic.
    pub willing_to_host: bool,
}

/// Set expertise on a topic
///
/// Creates or replaces the organisation's expertise on a topic. Coordinators
/// their own organisation, admins any. Refused with `unknown_topic` for a topic
/// not in the catalogue. Audited.
#[utoipa::path(
    put,
    tag = "directory",
    params(
        ("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64),
        ("topic" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"),
    ),
    request_body = ExpertiseBody,
    responses(
        (status = 200, description = "The expertise as stored", body = ExpertiseView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (or not yours), or no such topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[put("/organisations/{id}/expertise/{topic}")]
pub async fn put_expertise(
    call: Call,
    params: web::Path<(String, String)>,
    user: CurrentUser,
    body: Body<ExpertiseBody>,
) -> ApiResult {
    call.no_query()?;
    let (id, topic) = params.into_inner();
    let id: OrganisationId = path("id", &id, str::parse)?;
    let topic = path("topic", &topic, TopicSlug::parse)?;
    let body = body.after(async { profile::may_edit(&user.0, id) }).await?;
    let input = ExpertiseInput::new(
        body.level,
        &body.summary,
        body.since_year,
        body.willing_to_host,
        call.lang(),
    )
    .map_err(|e| ApiError::bad_request("invalid_field", e.to_string()))?;
    let stored =
        profile::put_expertise(call.ctx(), user.0, call.client(), id, topic, input).await?;
    Ok(HttpResponse::Ok().json(ExpertiseView::from(stored)))
}

/// Remove expertise on a topic
///
/// Removes the organisation's expertise on a topic (`no_expertise` when it had
/// none). Coordinators their own organisation, admins any. Audited.
#[utoipa::path(
    delete,
    tag = "directory",
    params(
        ("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64),
        ("topic" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "A malformed id or slug", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (or not yours), topic or expertise", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[delete("/organisations/{id}/expertise/{topic}")]
pub async fn delete_expertise(
    call: Call,
    params: web::Path<(String, String)>,
    user: CurrentUser,
) -> ApiResult {
    call.no_query()?;
    let (id, topic) = params.into_inner();
    let id: OrganisationId = path("id", &id, str::parse)?;
    let topic = path("topic", &topic, TopicSlug::parse)?;
    profile::delete_expertise(call.ctx(), user.0, call.client(), id, topic).await?;
    Ok(HttpResponse::NoContent().finish())
}
