//! What the lessons add up to, for coordinators, admins and partners: the
//! knowledge base (JSON or CSV), the best in class on a topic, statistics.

use crate::domain::organisation::OrganisationKind;
use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::domain::topic::TopicSlug;
use crate::http::call::Call;
use crate::http::extract::CurrentReader;
use crate::http::lessons::LessonText;
use crate::http::matches::{round, MatchOrganisation, MatchTopic, Standing};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::{path, positive_id};
use crate::http::responses::Guarded;
use crate::http::ApiResult;
use crate::service::lessons::{self};
use actix_web::route;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// Who wrote a published lesson: named only when the author chose so.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonAuthor {
    /// The organisation's name; absent when it published without a name.
    pub name: Option<String>,
    #[schema(example = "municipality")]
    pub kind: &'static str,
    /// Kind and size class in the response's language.
    #[schema(example = "gemeente, 20.000–50.000 inwoners")]
    pub size_class: String,
}

/// The host of the visit a lesson is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct LessonHost {
    pub id: i64,
    pub name: String,
}

/// A lesson in the knowledge base.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedLessonResponse {
    pub id: i64,
    #[schema(example = "cloud-migration")]
    pub topic: String,
    pub topic_name: String,
    /// The month of the visit.
    #[schema(example = "2027-03")]
    pub visit_month: String,
    /// `requester` (the visitor wrote it) or `host`.
    #[schema(example = "requester")]
    pub side: &'static str,
    pub author: LessonAuthor,
    /// Absent when the host itself wrote it without a name.
    pub host: Option<LessonHost>,
    #[serde(flatten)]
    pub text: LessonText,
    pub submitted_at: DateTime<Utc>,
}

impl From<lessons::PublishedLesson> for PublishedLessonResponse {
    fn from(l: lessons::PublishedLesson) -> Self {
        PublishedLessonResponse {
            id: l.id.0,
            topic: l.topic,
            topic_name: l.topic_name,
            visit_month: l.visit_month,
            side: l.side.as_str(),
            author: LessonAuthor {
                name: l.author_name,
                kind: l.author_kind.as_str(),
                size_class: l.author_size_class,
            },
            host: l.host.map(|(id, name)| LessonHost { id, name }),
            text: l.lesson.into(),
            submitted_at: l.submitted_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonPage {
    /// Newest first.
    pub items: Vec<PublishedLessonResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LessonListParams {
    /// Only lessons on this topic.
    #[param(inline, value_type = Option<String>, pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub topic: Option<String>,
    /// Only lessons written by this kind of organisation.
    #[param(inline, value_type = Option<String>, pattern = "^(municipality|housing_corporation|province|water_board|other)$")]
    pub kind: Option<String>,
    /// Words that must all occur (each as the start of a word); case and
    /// accents do not matter.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only lessons older than this id (the `nextBefore` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20); the CSV export has every match.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `csv` for a spreadsheet (the same as `Accept: text/csv`).
    #[param(inline, value_type = Option<String>, pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// The knowledge base
///
/// Published lessons newest first, searchable by topic and text; unpublished
/// lessons never appear here, anonymous ones without the organisation's name.
/// For coordinators, admins and partners with `lessons:read`. As CSV with
/// `format=csv` or `Accept: text/csv`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(LessonListParams),
    responses(
        (status = 200, description = "Published lessons", content((LessonPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without lessons:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/lessons", method = "GET", method = "HEAD")]
pub async fn list(call: Call, reader: CurrentReader) -> ApiResult {
    let params = call.query::<LessonListParams>()?;
    let query = lessons::KnowledgeQuery {
        topic: params.get("topic", TopicSlug::parse)?,
        kind: params.get("kind", str::parse::<OrganisationKind>)?,
        q: params.get("q", crate::domain::search::parse_query)?,
        before: params.get("before", positive_id)?,
    };
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let csv = match params.get("format", |f: &str| match f {
        "json" => Ok(false),
        "csv" => Ok(true),
        _ => Err(crate::domain::Invalid::new("expected json or csv")),
    })? {
        Some(csv) => csv,
        None => wants_csv(call.req()),
    };
    let language = call.lang();
    let (items, next_before) = lessons::knowledge_base(
        call.ctx(),
        reader.0,
        query,
        (!csv).then_some(limit),
        language,
    )
    .await?;
    if csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"meeloop-lessons.csv\"",
            ))
            .insert_header(("Content-Language", language.as_str()))
            .insert_header(("Vary", "Accept, Accept-Language"))
            .insert_header(("Cache-Control", "no-store"))
            .body(
                to_csv(items)
                    .map_err(|e| ApiError::from(crate::service::ServiceError::Internal(e)))?,
            ));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Language", language.as_str()))
        .insert_header(("Vary", "Accept, Accept-Language"))
        .insert_header(("Cache-Control", "no-store"))
        .json(LessonPage {
            items: items
                .into_iter()
                .map(PublishedLessonResponse::from)
                .collect(),
            next_before,
        }))
}

/// `Accept: text/csv` (and not JSON first).
fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|accept| {
            let csv = accept.find("text/csv");
            let json = accept.find("application/json");
            match (csv, json) {
                (Some(c), Some(j)) => c < j,
                (Some(_), None) => true,
                _ => false,
            }
        })
        .unwrap_or(false)
}

/// One row per lesson, a header row first, through the service's one CSV
/// writer (quoting, and no cell a spreadsheet would run as a formula).
fn to_csv(items: Vec<lessons::PublishedLesson>) -> Result<String, anyhow::Error> {
    use crate::domain::spreadsheet::{Cell, CsvTable};
    let mut table = CsvTable::new(&[
        "id",
        "topic",
        "visit_month",
        "side",
        "author_name",
        "author_kind",
        "author_size_class",
        "host_name",
        "situation",
        "strengths",
        "mistakes",
        "recommendations",
        "hours_saved",
        "rating",
        "recommend",
        "submitted_at",
    ])?;
    for l in items {
        table.row([
            Cell::from(l.id.0),
            l.topic.into(),
            l.visit_month.into(),
            l.side.as_str().into(),
            l.author_name.unwrap_or_default().into(),
            l.author_kind.as_str().into(),
            l.author_size_class.into(),
            l.host.map(|h| h.1).unwrap_or_default().into(),
            l.lesson.situation.into(),
            l.lesson.strengths.into(),
            l.lesson.mistakes.into(),
            l.lesson.recommendations.into(),
            i64::from(l.lesson.hours_saved).into(),
            i64::from(l.lesson.rating).into(),
            match l.lesson.recommend {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .into(),
            l.submitted_at.and_utc().to_rfc3339().into(),
        ])?;
    }
    Ok(table.finish()?)
}

/// One of the best in class on a topic.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeaderView {
    #[schema(example = 1)]
    pub rank: usize,
    pub organisation: MatchOrganisation,
    /// Its maturity level on the topic (0 to 5), as it says itself.
    pub level: u8,
    /// Since when it is at that level, when it said so.
    pub since_year: Option<i32>,
    /// Level, recent experience and visitors' ratings together (0 to 1; a
    /// level is about 0.19): what orders this list and matching's `best` order.
    #[schema(example = 0.93)]
    pub mastery: f64,
    pub standing: Standing,
    /// The reputation: a Bayesian average of the visitors' ratings (1 to 5)
    /// with the configured prior and decay.
    #[schema(example = 4.15)]
    pub score: f64,
    /// Visits rated by their visitors.
    pub rated_visits: u32,
    /// The plain average of those ratings; absent without ratings.
    pub average_rating: Option<f64>,
    /// Hours the visitors say the visits saved them.
    pub hours_saved: i64,
    pub published_lessons: u32,
    /// What its visitors said three months on: did they apply it?
    pub applied: crate::http::insight::AppliedView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderListView {
    pub topic: MatchTopic,
    /// Best first.
    pub items: Vec<LeaderView>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaderParams {
    /// How many, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Best in class on a topic
///
/// The organisations with expertise on the topic ranked by mastery: level,
/// recent experience and their visitors' ratings (docs/matching.md,
/// docs/lessons.md), with how often their visitors applied what they learnt
/// (the three-month follow-ups). For coordinators, admins and partners with
/// `lessons:read`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(
        ("slug" = String, Path, description = "Topic slug", pattern = "^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"),
        LeaderParams,
    ),
    responses(
        (status = 200, description = "Best first", body = LeaderListView),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without lessons:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown topic", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/topics/{slug}/leaders", method = "GET", method = "HEAD")]
pub async fn leaders(call: Call, slug: web::Path<String>, reader: CurrentReader) -> ApiResult {
    let params = call.query::<LeaderParams>()?;
    let topic = path("slug", &slug, TopicSlug::parse)?;
    let limit = params
        .get("limit", |raw: &str| match raw.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => Ok(n),
            _ => Err(crate::domain::Invalid::new("a whole number from 1 to 50")),
        })?
        .unwrap_or(10);
    let leaders =
        crate::service::matching::topic_leaders(call.ctx(), &reader.0, &topic, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(LeaderListView {
            topic: MatchTopic::from(&leaders.topic),
            items: leaders
                .leaders
                .into_iter()
                .enumerate()
                .map(|(i, (host, l))| LeaderView {
                    applied: leaders
                        .applied
                        .get(&host.id)
                        .copied()
                        .unwrap_or_default()
                        .into(),
                    rank: i + 1,
                    organisation: MatchOrganisation::from(&host),
                    level: l.level,
                    since_year: l.since_year,
                    mastery: round(l.mastery, 4),
                    standing: l.class.into(),
                    score: round(l.reputation.score, 2),
                    rated_visits: l.reputation.visits,
                    average_rating: (l.reputation.visits > 0)
                        .then(|| round(l.reputation.mean_rating, 2)),
                    hours_saved: l.reputation.hours_saved,
                    published_lessons: l.reputation.published,
                })
                .collect(),
        }))
}

/// Visits on one topic in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicMonth {
    #[schema(example = "cloud-migration")]
    pub topic: String,
    #[schema(example = "2027-03")]
    pub month: String,
    pub visits: u32,
}

/// The lessons forms of the visits held in the period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FormFigures {
    /// Two per held visit: one per side.
    pub sent: u32,
    pub answered: u32,
    /// answered ÷ sent; absent when none were sent.
    #[schema(example = 0.75)]
    pub response_rate: Option<f64>,
}

/// Hours saved on one topic, as the lessons estimate them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicTime {
    #[schema(example = "cloud-migration")]
    pub topic: String,
    pub hours: i64,
    pub lessons: u32,
}

/// How hosts answered the requests on one topic made in the period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicAnswers {
    #[schema(example = "cloud-migration")]
    pub topic: String,
    /// Requests made in the period (also those still open or withdrawn).
    pub requests: u32,
    pub accepted: u32,
    pub declined: u32,
    /// Left unanswered until they ran out.
    pub expired: u32,
    /// accepted ÷ (accepted + declined + expired); absent before any.
    #[schema(example = 0.8)]
    pub acceptance_rate: Option<f64>,
    /// The median time from request to answer, in hours; absent without answers.
    #[schema(example = 26.5)]
    pub median_hours_to_answer: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    #[schema(example = "2026-12")]
    pub from: String,
    #[schema(example = "2027-11")]
    pub to: String,
    /// Accepted or held visits by the month of their day.
    pub visits_per_topic_per_month: Vec<TopicMonth>,
    pub forms: FormFigures,
    pub time_saved_per_topic: Vec<TopicTime>,
    /// Requests made in the period, by topic: acceptance and time to answer.
    pub answers_per_topic: Vec<TopicAnswers>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// First month (default: eleven months before `to`).
    #[param(inline, value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-12")]
    pub from: Option<String>,
    /// Last month (default: this month).
    #[param(inline, value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2027-11")]
    pub to: Option<String>,
}

/// Statistics
///
/// Visits per topic per month, the response rate of the lessons forms, the
/// hours saved per topic, and per topic how hosts answered the requests made
/// in those months (acceptance rate, median time to answer). For coordinators, admins and
/// partners with `stats:read`.
#[utoipa::path(
    get,
    tag = "lessons",
    params(StatsParams),
    responses(
        (status = 200, description = "The figures", body = StatsView),
        (status = 400, description = "A malformed month, or from after to", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner without stats:read", body = Problem, content_type = "application/problem+json"),
        Guarded,
    )
)]
#[route("/stats", method = "GET", method = "HEAD")]
pub async fn stats(call: Call, reader: CurrentReader) -> ApiResult {
    use crate::domain::stats::Month;
    let params = call.query::<StatsParams>()?;
    let to = params
        .get("to", Month::parse)?
        .unwrap_or_else(|| Month::of(call.ctx().today()));
    let from = params.get("from", Month::parse)?.unwrap_or(to.minus(11));
    let stats = lessons::statistics(call.ctx(), reader.0, from, to).await?;
    let response_rate = stats.response_rate().map(|r| round(r, 4));
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(StatsView {
            from: from.to_string(),
            to: to.to_string(),
            visits_per_topic_per_month: stats
                .visits
                .into_iter()
                .map(|((topic, month), visits)| TopicMonth {
                    topic,
                    month: month.to_string(),
                    visits,
                })
                .collect(),
            forms: FormFigures {
                sent: stats.forms_sent,
                answered: stats.forms_answered,
                response_rate,
            },
            time_saved_per_topic: stats
                .time_saved
                .into_iter()
                .map(|(topic, (hours, lessons))| TopicTime {
                    topic,
                    hours,
                    lessons,
                })
                .collect(),
            answers_per_topic: stats
                .answers
                .into_iter()
                .map(|(topic, a)| TopicAnswers {
                    acceptance_rate: a.acceptance_rate().map(|r| round(r, 4)),
                    median_hours_to_answer: a.median_hours.map(|h| round(h, 1)),
                    topic,
                    requests: a.requests,
                    accepted: a.accepted,
                    declined: a.declined,
                    expired: a.expired,
                })
                .collect(),
        }))
}
