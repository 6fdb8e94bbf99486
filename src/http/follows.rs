//! The topics the caller follows (`/me/topics`): what their monthly digest
//! is about.

use actix_web::{delete, put, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::Problem;
use super::query::path;
use super::topics::TopicSummary;
use crate::domain::topic::TopicSlug;
use crate::http::call::Call;
use crate::http::extract::CurrentUser;
use crate::http::responses::{BadQuery, Guarded};
use crate::http::ApiResult;
use crate::service::follows::{self, Followed};

/// A topic the caller follows.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowedView {
    pub topic: TopicSummary,
    /// When they started following it.
    pub since: DateTime<Utc>,
}

/// The topics the caller follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedList {
    pub items: Vec<FollowedView>,
}

impl From<Followed> for FollowedView {
    fn from(f: Followed) -> Self {
        FollowedView {
            topic: TopicSummary::from(f.topic),
            since: f.since.and_utc(),
        }
    }
}

/// Topics you follow
///
/// The topics the signed-in person follows, by slug: the monthly digest
/// brings newly published lessons, new best-in-class hosts and visits
/// planned nearby on these topics. Only ever the caller's own.
#[utoipa::path(
    get,
    tag = "auth",
    responses(
        (status = 200, description = "The topics you follow", body = FollowedList),
        BadQuery,
        Guarded,
    )
)]
#[route("/me/topics", method = "GET", method = "HEAD")]
pub async fn list(call: Call, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let items = follows::followed(call.ctx(), &user.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(FollowedList {
            items: items.into_iter().map(FollowedView::from).collect(),
        }))
}

/// Follow a topic
///
/// Starts following a topic (nothing changes when you follow it already).
/// `unknown_topic` for a topic not in the catalogue or retired.
#[utoipa::path(
    put,
    tag = "auth",
    params(("topic" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")),
    responses(
        (status = 204, description = "You follow it"),
        (status = 400, description = "Not a topic slug", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[put("/me/topics/{topic}")]
pub async fn follow(call: Call, topic: web::Path<String>, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let slug = path("topic", &topic, TopicSlug::parse)?;
    follows::follow(call.ctx(), &user.0, slug).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop following a topic
///
/// Stops following a topic (nothing changes when you did not follow it).
/// `unknown_topic` for a topic not in the catalogue.
#[utoipa::path(
    delete,
    tag = "auth",
    params(("topic" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")),
    responses(
        (status = 204, description = "You no longer follow it"),
        (status = 400, description = "Not a topic slug", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[delete("/me/topics/{topic}")]
pub async fn unfollow(call: Call, topic: web::Path<String>, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let slug = path("topic", &topic, TopicSlug::parse)?;
    follows::unfollow(call.ctx(), &user.0, slug).await?;
    Ok(HttpResponse::NoContent().finish())
}
