//! The knowledge base: published lessons as anyone allowed may read them,
//! the page that shows them with a topic's leaders, and statistics.

use crate::service::context::Context;

use crate::db::lessons::{self as repo};
use crate::db::{self};
use crate::domain::account::User;
use crate::domain::organisation::Language;
use crate::domain::refusal::{DirectoryRefusal, Refusal};
use crate::domain::search::fold;
use crate::domain::visit::VisitState;
use crate::domain::Invalid;
use crate::service::ServiceError;

pub use crate::service::reader::Reader;

/// What the knowledge base asks for.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeQuery {
    pub topic: Option<crate::domain::topic::TopicSlug>,
    /// The kind of the organisation that wrote the lesson.
    pub kind: Option<crate::domain::organisation::OrganisationKind>,
    /// Words to find (case and accents do not matter).
    pub q: Option<String>,
    pub before: Option<i64>,
}

pub use crate::service::published::PublishedLesson;

/// The knowledge base: published lessons, newest first, `limit` per page
/// (`None` for all, as the CSV export wants).
pub async fn knowledge_base(
    ctx: &Context,
    reader: Reader,
    query: KnowledgeQuery,
    limit: Option<i64>,
    language: Language,
) -> Result<(Vec<PublishedLesson>, Option<i64>), ServiceError> {
    reader.require(crate::domain::partner::Scope::LessonsRead)?;
    let words: Vec<String> = query
        .q
        .as_deref()
        .map(fold)
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_string)
        .collect();
    ctx.pool
        .run(move |conn| {
            let topic = match &query.topic {
                None => None,
                Some(slug) => Some(db::topics::find_by_slug(conn, slug.as_str())?.ok_or_else(
                    || {
                        ServiceError::from(DirectoryRefusal::UnknownTopic {
                            slug: slug.as_str().to_string(),
                        })
                    },
                )?),
            };
            let filter = repo::Published {
                topic: topic.as_ref().map(|t| t.id.0),
                kind: query.kind.map(|k| k.as_str()),
                words,
                before: query.before,
            };
            let page = limit.unwrap_or(i64::MAX - 1);
            let mut rows = repo::published(conn, &filter, page.saturating_add(1))?;
            let next = if rows.len() as i64 > page {
                rows.truncate(page as usize);
                rows.last().map(|r| r.id.0)
            } else {
                None
            };
            let lessons = crate::service::published::shape(conn, rows, language)?;
            Ok((lessons, next))
        })
        .await
}

/// Figures over the visits between the first day of `from` and the last of
/// `to`, and the requests made in those months (docs/lessons.md): for logged-in users and partners with `stats:read`.
pub async fn statistics(
    ctx: &Context,
    reader: Reader,
    from: crate::domain::stats::Month,
    to: crate::domain::stats::Month,
) -> Result<crate::domain::stats::Stats, ServiceError> {
    use crate::domain::stats::{answers, summarise, LessonSum, Outcome, RequestFact, VisitCount};
    reader.require(crate::domain::partner::Scope::StatsRead)?;
    if from > to {
        return Err(Invalid::new("from: must not be after to").into());
    }
    let (Some(first), Some(last)) = (from.first_day(), to.last_day()) else {
        return Err(Invalid::new("from, to: not a month").into());
    };
    ctx.pool
        .run(move |conn| {
            let slugs: std::collections::HashMap<i64, String> = db::topics::all(conn, true)?
                .into_iter()
                .map(|t| (t.id.0, t.slug))
                .collect();
            let slug = |id: i64| slugs.get(&id).cloned().unwrap_or_default();
            let held = |state: &str| state == VisitState::Completed.as_str();
            let visits: Vec<VisitCount> = repo::visit_counts(conn, first, last)?
                .into_iter()
                .filter_map(|(topic, date, state, n)| {
                    Some(VisitCount {
                        topic: slug(topic),
                        date: date?,
                        held: held(&state),
                        visits: u32::try_from(n).unwrap_or(u32::MAX),
                    })
                })
                .collect();
            let lessons: Vec<LessonSum> = repo::lesson_sums(conn, first, last)?
                .into_iter()
                .map(|(topic, n, hours)| LessonSum {
                    topic: slug(topic),
                    lessons: u32::try_from(n).unwrap_or(u32::MAX),
                    hours_saved: hours.unwrap_or(0),
                })
                .collect();
            let (from_at, to_at) = (
                crate::service::clock::utc_midnight(first),
                crate::service::clock::utc_midnight(last + chrono::Duration::days(1)),
            );
            let requests: Vec<RequestFact> = repo::requests_between(conn, from_at, to_at)?
                .into_iter()
                .map(|r| RequestFact {
                    topic: slug(r.topic_id),
                    outcome: Outcome::of(r.state, r.answered_at.is_some()),
                    hours_to_answer: r
                        .answered_at
                        .map(|at| (at - r.created_at).num_seconds() as f64 / 3600.0),
                })
                .collect();
            let mut stats = summarise(&visits, &lessons);
            stats.answers = answers(&requests);
            Ok(stats)
        })
        .await
}

/// The knowledge base page: the topics to choose from, a page of
/// published lessons and, once a topic is chosen, its best in class.
#[derive(Debug, Clone)]
pub struct Browse {
    pub topics: Vec<crate::service::matching::TopicLabel>,
    pub lessons: Vec<PublishedLesson>,
    pub next: Option<i64>,
    pub leaders: Option<crate::service::matching::LeaderList>,
    /// Why the topic asked for was left out (it is not in the catalogue):
    /// the lessons of every topic are shown instead.
    pub refused: Option<Refusal>,
}

/// Lessons and leaders for a logged-in user, in one answer. A topic that
/// is not in the catalogue is left out and said so, not refused: the page
/// still shows the catalogue and every topic's lessons.
pub async fn browse(
    ctx: &Context,
    user: User,
    mut query: KnowledgeQuery,
    language: Language,
) -> Result<Browse, ServiceError> {
    let topics = crate::service::matching::sorted_topics(&ctx.snapshot().await?.snapshot, language);
    let refused = query
        .topic
        .take_if(|t| !topics.iter().any(|known| known.slug == t.as_str()))
        .map(|t| {
            DirectoryRefusal::UnknownTopic {
                slug: t.as_str().to_string(),
            }
            .into()
        });
    let reader = Reader::User(user);
    let leaders = match &query.topic {
        Some(topic) => Some(crate::service::matching::topic_leaders(ctx, &reader, topic, 5).await?),
        None => None,
    };
    let (lessons, next) = knowledge_base(ctx, reader, query, Some(20), language).await?;
    Ok(Browse {
        topics,
        lessons,
        next,
        leaders,
        refused,
    })
}
