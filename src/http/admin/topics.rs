//! Admins keep the topic catalogue: add topics, rename them, retire them.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{patch, post, route};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::organisation::parse_name;
use crate::domain::topic::{parse_description, Topic, TopicSlug};
use crate::http::body::Body;
use crate::http::extract::AdminUser;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadQuery};
use crate::http::topics::TopicView;
use crate::service::admin::{self, TopicChanges};

/// A topic with its status, as admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminTopicView {
    #[serde(flatten)]
    pub topic: TopicView,
    /// Retired topics are hidden from the catalogue, the directory and matching.
    pub active: bool,
}

impl From<Topic> for AdminTopicView {
    fn from(t: Topic) -> Self {
        AdminTopicView {
            active: t.active,
            topic: TopicView::from(t),
        }
    }
}

/// Every topic, for admins
///
/// The topic catalogue with retired topics included. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    responses(
        (status = 200, description = "All topics by slug", body = Vec<AdminTopicView>),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/topics", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let topics = admin::list_topics(call.ctx(), admin.0).await?;
    Ok(HttpResponse::Ok().json(
        topics
            .into_iter()
            .map(AdminTopicView::from)
            .collect::<Vec<_>>(),
    ))
}

/// A new topic, named in both languages.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateTopic {
    #[schema(
        pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$",
        example = "cloud-migration"
    )]
    pub slug: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "Migratie naar de cloud"
    )]
    pub name_nl: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$",
        example = "Cloud migration"
    )]
    pub name_en: String,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
    )]
    pub description_nl: String,
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
    )]
    pub description_en: String,
}

/// Add a topic
///
/// Adds a topic to the catalogue with Dutch and English names and descriptions.
/// Refused with `topic_in_use` when the slug exists. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    request_body = CreateTopic,
    responses(
        (status = 201, description = "Created", body = AdminTopicView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A topic with this slug exists", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/topics")]
pub async fn create(call: Call, admin: AdminUser, body: Body<CreateTopic>) -> ApiResult {
    call.no_query()?;
    let body = body.admitted()?;
    let slug = TopicSlug::parse(&body.slug).map_err(ApiError::field("slug"))?;
    let names = TopicChanges {
        name_nl: Some(parse_name(&body.name_nl).map_err(ApiError::field("nameNl"))?),
        name_en: Some(parse_name(&body.name_en).map_err(ApiError::field("nameEn"))?),
        description_nl: Some(
            parse_description(&body.description_nl).map_err(ApiError::field("descriptionNl"))?,
        ),
        description_en: Some(
            parse_description(&body.description_en).map_err(ApiError::field("descriptionEn"))?,
        ),
        active: None,
    };
    let topic = admin::create_topic(call.ctx(), admin.0, call.client(), slug, names).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/admin/topics/{}", topic.slug)))
        .json(AdminTopicView::from(topic)))
}

/// Changes to a topic; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicPatch {
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name_nl: Option<String>,
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name_en: Option<String>,
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        max_length = 2000,
        pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
    )]
    pub description_nl: Option<String>,
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        max_length = 2000,
        pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
    )]
    pub description_en: Option<String>,
    /// `false` retires the topic: hidden from the catalogue, the directory
    /// and matching, its expertise kept. `true` restores it.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// Change a topic
///
/// Renames, redescribes, retires or restores a topic. A retired topic leaves
/// the catalogue and matching; expertise on it is kept. Admins only; audited.
#[utoipa::path(
    patch,
    tag = "admin",
    params(("slug" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")),
    request_body = TopicPatch,
    responses(
        (status = 200, description = "The topic after the change", body = AdminTopicView),
        (status = 400, description = "A field is invalid (the detail names it)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[patch("/admin/topics/{slug}")]
pub async fn update(
    call: Call,
    slug: web::Path<String>,
    admin: AdminUser,
    body: Body<TopicPatch>,
) -> ApiResult {
    call.no_query()?;
    let slug = path("slug", &slug, TopicSlug::parse)?;
    let body = body.admitted()?;
    let changes = TopicChanges {
        name_nl: body
            .name_nl
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(ApiError::field("nameNl"))?,
        name_en: body
            .name_en
            .as_deref()
            .map(parse_name)
            .transpose()
            .map_err(ApiError::field("nameEn"))?,
        description_nl: body
            .description_nl
            .as_deref()
            .map(parse_description)
            .transpose()
            .map_err(ApiError::field("descriptionNl"))?,
        description_en: body
            .description_en
            .as_deref()
            .map(parse_description)
            .transpose()
            .map_err(ApiError::field("descriptionEn"))?,
        active: body.active,
    };
    let topic = admin::update_topic(call.ctx(), admin.0, call.client(), slug, changes).await?;
    Ok(HttpResponse::Ok().json(AdminTopicView::from(topic)))
}
