//! Lessons learned over the API: a side's form for a held visit.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::{post, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{integer, Body};
use super::problem::Problem;
use super::query::path;
use crate::domain::lesson::{Draft, Lesson, Publish};
use crate::domain::visit::VisitId;
use crate::http::extract::CurrentUser;
use crate::http::responses::{BadId, BodyLimits, Guarded};
use crate::service::lessons::{self, LessonView};

/// One side's lessons from a visit. Texts are trimmed before their length
/// is checked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LessonBody {
    /// The situation you came with (optional, at most 4,000 characters).
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub situation: String,
    /// Strong aspects to copy (10 to 4,000 characters).
    #[schema(
        min_length = 10,
        max_length = 4000,
        example = "An exit plan per application, agreed with the supplier beforehand."
    )]
    pub strengths: String,
    /// Mistakes to avoid (10 to 4,000 characters).
    #[schema(
        min_length = 10,
        max_length = 4000,
        example = "Count the licences first; we lost two months."
    )]
    pub mistakes: String,
    /// Recommendations (optional, at most 4,000 characters).
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub recommendations: String,
    /// Estimated hours the visit saves (0 to 10,000).
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 0, maximum = 10000, example = 120)]
    pub hours_saved: i64,
    /// Your rating of the visit, 1 to 5.
    #[serde(deserialize_with = "integer::required")]
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub rating: i64,
    /// Whether you recommend the host on this topic: required from the
    /// visitor's side, ignored from the host's.
    #[serde(default)]
    pub recommend: Option<bool>,
    /// `no` (the default: only the two organisations and admins see it),
    /// `named` (in the knowledge base under your organisation's name) or
    /// `pseudonymous` (only your kind and size class).
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(no|named|pseudonymous)$", example = "pseudonymous")]
    pub publish: Option<String>,
}

/// What a side wrote, as its own organisations and the knowledge base show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonText {
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: i32,
    pub rating: i16,
    /// The visitor's recommendation of the host on this topic (absent from
    /// the host's side).
    pub recommend: Option<bool>,
}

impl From<Lesson> for LessonText {
    fn from(l: Lesson) -> Self {
        LessonText {
            situation: l.situation,
            strengths: l.strengths,
            mistakes: l.mistakes,
            recommendations: l.recommendations,
            hours_saved: l.hours_saved,
            rating: l.rating,
            recommend: l.recommend,
        }
    }
}

/// A side's lessons.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonResponse {
    pub id: i64,
    pub visit_id: i64,
    /// `requester` or `host`.
    #[schema(example = "requester")]
    pub side: &'static str,
    #[serde(flatten)]
    pub text: LessonText,
    /// `no`, `named` or `pseudonymous`.
    #[schema(example = "no")]
    pub publish: &'static str,
    pub submitted_at: DateTime<Utc>,
}

impl From<LessonView> for LessonResponse {
    fn from(l: LessonView) -> Self {
        LessonResponse {
            id: l.id.0,
            visit_id: l.visit_id.0,
            side: l.side.as_str(),
            publish: l.lesson.publish.as_str(),
            text: l.lesson.into(),
            submitted_at: l.submitted_at.and_utc(),
        }
    }
}

/// Send your side's lessons
///
/// Coordinators of either organisation send their side's lessons from a held
/// visit: what to copy, what to avoid, hours saved and whether they would
/// recommend the host. Once per side (`lessons_sent`); the same as the form
/// behind the emailed link, which then stops working. Messages follow
/// `Accept-Language`.
#[utoipa::path(
    post,
    tag = "lessons",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = LessonBody,
    responses(
        (status = 201, description = "Saved", body = LessonResponse),
        (status = 400, description = "Invalid input: every field's problem in the detail", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator (admins do not write lessons)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The visit has not taken place, or your side has answered already", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        Guarded,
    )
)]
#[post("/visits/{id}/lessons")]
pub async fn submit(
    call: Call,
    id: web::Path<String>,
    user: CurrentUser,
    body: Body<LessonBody>,
) -> ApiResult {
    let (id, body) = super::visits::visit_and_body(
        &call,
        &id,
        &user,
        body,
        crate::service::visits::Act::WriteLessons,
    )
    .await?;
    let publish = match body.publish.as_deref() {
        None => Publish::No,
        Some(p) => p.parse::<Publish>().map_err(|e| {
            crate::service::ServiceError::from(crate::domain::Invalid::of("publish", e))
        })?,
    };
    let draft = Draft {
        situation: body.situation,
        strengths: body.strengths,
        mistakes: body.mistakes,
        recommendations: body.recommendations,
        hours_saved: Some(body.hours_saved),
        rating: Some(body.rating),
        recommend: body.recommend,
        publish,
    };
    let lesson = lessons::submit_lesson(call.ctx(), user.0, id, draft, call.lang()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(LessonResponse::from(lesson)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitLessons {
    /// The sides that have answered (none, one or both), published or not.
    pub items: Vec<LessonResponse>,
}

/// A visit's lessons
///
/// Both sides' lessons of one visit, published or not. For coordinators of its
/// two organisations and admins; anyone else gets `unknown_visit`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(("id" = i64, Path, description = "Visit id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The visit's lessons", body = VisitLessons),
        BadId,
        (status = 404, description = "No such visit, or not yours", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/visits/{id}/lessons", method = "GET", method = "HEAD")]
pub async fn of_visit(call: Call, id: web::Path<String>, user: CurrentUser) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, str::parse::<VisitId>)?;
    let items = lessons::visit_lessons(call.ctx(), user.0, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(VisitLessons {
            items: items.into_iter().map(LessonResponse::from).collect(),
        }))
}
