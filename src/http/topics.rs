//! The topic catalogue.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::route;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::topic::Topic;
use crate::http::responses::{BadQuery, Unavailable};
use crate::service::directory;

/// A topic, named in Dutch and English.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicView {
    #[schema(example = "cloud-migration")]
    pub slug: String,
    #[schema(example = "Migratie naar de cloud")]
    pub name_nl: String,
    #[schema(example = "Cloud migration")]
    pub name_en: String,
    pub description_nl: String,
    pub description_en: String,
}

impl From<Topic> for TopicView {
    fn from(t: Topic) -> Self {
        TopicView {
            slug: t.slug,
            name_nl: t.name_nl,
            name_en: t.name_en,
            description_nl: t.description_nl,
            description_en: t.description_en,
        }
    }
}

/// A topic as referenced from other resources.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicSummary {
    #[schema(example = "cloud-migration")]
    pub slug: String,
    #[schema(example = "Migratie naar de cloud")]
    pub name_nl: String,
    #[schema(example = "Cloud migration")]
    pub name_en: String,
}

impl From<Topic> for TopicSummary {
    fn from(t: Topic) -> Self {
        TopicSummary {
            slug: t.slug,
            name_nl: t.name_nl,
            name_en: t.name_en,
        }
    }
}

/// The topic catalogue
///
/// Every active topic by slug, with Dutch and English names and descriptions.
/// Public.
#[utoipa::path(
    get,
    tag = "directory",
    responses(
        (status = 200, description = "The topic catalogue", body = Vec<TopicView>),
        BadQuery,
        Unavailable,
    )
)]
#[route("/topics", method = "GET", method = "HEAD")]
pub async fn list(call: Call) -> ApiResult {
    call.no_query()?;
    let topics = directory::list_topics(call.ctx()).await?;
    Ok(HttpResponse::Ok().json(topics.into_iter().map(TopicView::from).collect::<Vec<_>>()))
}
