//! The knowledge base: published lessons by topic and words, and the best
//! in class per topic.

use crate::web::session::OnPage;
use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use askama::Template;
use serde::Deserialize;

use super::session::Nav;
use super::{page, Chrome, Session};
use crate::domain::insight::AppliedCounts;
use crate::domain::lesson::Lesson;
use crate::domain::matching::{Host, Leader as Standing};
use crate::domain::organisation::Language;
use crate::domain::refusal::Explain;
use crate::domain::search::{parse_query, MAX_QUERY_CHARS};
use crate::domain::topic::TopicSlug;
use crate::service::lessons::{self, KnowledgeQuery, PublishedLesson};

/// A leader on a topic: its directory entry and standing.
type Leader = (Host, Standing);

pub struct LessonItem {
    pub id: i64,
    pub heading: String,
    pub byline: String,
    pub lesson: Lesson,
}

pub struct LeaderItem {
    pub name: String,
    /// "5 (sinds 2019)"
    pub level: String,
    pub score: String,
    pub visits: u32,
    pub hours: i64,
    pub lessons: u32,
    /// Its visitors three months on: "3 van 4 (75%)".
    pub applied: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "web/knowledge.html")]
struct KnowledgePage {
    c: Chrome,
    topics: Vec<(String, String)>,
    topic: String,
    topic_name: String,
    q: String,
    error: Option<String>,
    lessons: Vec<LessonItem>,
    leaders: Vec<LeaderItem>,
    older: Option<String>,
}

/// What the knowledge page was asked; every field may be missing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Browse {
    topic: String,
    q: String,
    before: String,
}

impl Browse {
    /// The service's question, and what the page says is wrong with the
    /// form (the rest of the form still counts).
    fn query(&self, lang: Language) -> (KnowledgeQuery, Option<String>) {
        let nl = lang == Language::Nl;
        let (topic, q) = (self.topic.trim(), self.q.trim());
        let mut error = None;
        let topic = match topic {
            "" => None,
            raw => TopicSlug::parse(raw)
                .map_err(|_| {
                    error = Some(
                        if nl {
                            "Kies een onderwerp uit de lijst."
                        } else {
                            "Pick a topic from the list."
                        }
                        .to_string(),
                    )
                })
                .ok(),
        };
        if parse_query(q).is_err() {
            error = Some(if nl {
                format!("Zoek met hoogstens {MAX_QUERY_CHARS} tekens.")
            } else {
                format!("Search with at most {MAX_QUERY_CHARS} characters.")
            });
        }
        let query = KnowledgeQuery {
            topic,
            kind: None,
            q: Some(q.to_string()).filter(|q| !q.is_empty() && error.is_none()),
            before: self.before.trim().parse().ok().filter(|b: &i64| *b > 0),
        };
        (query, error)
    }

    /// The link to the next (older) page of the same search.
    fn older(&self, next: i64) -> String {
        let mut p = vec![("before", next.to_string())];
        for (name, value) in [("topic", &self.topic), ("q", &self.q)] {
            if !value.trim().is_empty() {
                p.push((name, value.trim().to_string()));
            }
        }
        format!(
            "/knowledge?{}",
            serde_urlencoded::to_string(p).unwrap_or_default()
        )
    }
}

impl From<(&PublishedLesson, Language)> for LessonItem {
    fn from((l, lang): (&PublishedLesson, Language)) -> Self {
        LessonItem {
            id: l.id.0,
            heading: l.heading(lang),
            byline: l.byline(lang),
            lesson: l.lesson.clone(),
        }
    }
}

impl From<(&Leader, &AppliedCounts, Language)> for LeaderItem {
    fn from(((host, leader), applied, lang): (&Leader, &AppliedCounts, Language)) -> Self {
        let nl = lang == Language::Nl;
        let score = format!("{:.1}", leader.reputation.score);
        LeaderItem {
            name: host.name.clone(),
            level: match (leader.since_year, nl) {
                (Some(y), true) => format!("{} (sinds {y})", leader.level),
                (Some(y), false) => format!("{} (since {y})", leader.level),
                (None, _) => leader.level.to_string(),
            },
            score: if nl { score.replace('.', ",") } else { score },
            visits: leader.reputation.visits,
            hours: leader.reputation.hours_saved,
            lessons: leader.reputation.published,
            applied: super::insight::applied_text(applied, lang),
            href: format!("/organisations/{}", host.id.0),
        }
    }
}

/// GET /knowledge?topic=&q=&before=
pub async fn browse(req: HttpRequest, session: Session) -> PageResult {
    let lang = session.lang;
    let asked: Browse = super::decode(req.query_string().as_bytes(), lang)?;
    let (query, invalid) = asked.query(lang);
    let found = lessons::browse(session.ctx(), session.user.clone(), query, lang)
        .await
        .on_page(lang)?;
    let error = invalid.or_else(|| found.refused.as_ref().map(|r| r.message(lang)));
    let (topic_name, leaders) = match &found.leaders {
        Some(list) => (
            list.topic.name(lang).to_string(),
            list.leaders
                .iter()
                .map(|l| {
                    let applied = list.applied.get(&l.0.id).copied().unwrap_or_default();
                    (l, &applied, lang).into()
                })
                .collect(),
        ),
        None => (String::new(), vec![]),
    };
    Ok(page(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &KnowledgePage {
            c: session.chrome(Nav::Knowledge),
            topics: found
                .topics
                .iter()
                .map(|t| (t.slug.clone(), t.name(lang).to_string()))
                .collect(),
            topic: asked.topic.trim().to_string(),
            topic_name,
            q: asked.q.trim().to_string(),
            error,
            lessons: found.lessons.iter().map(|l| (l, lang).into()).collect(),
            leaders,
            older: found.next.map(|next| asked.older(next)),
        },
    ))
}
