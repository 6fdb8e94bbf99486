//! The knowledge base: published lessons by topic and words, and the best
//! in class per topic.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::session::Nav;
use super::{page, Chrome, Session, WebError};
use crate::domain::matching::text::kind_name;
use crate::domain::organisation::Language;
use crate::domain::refusal::Kind;
use crate::domain::search::{parse_query, MAX_QUERY_CHARS};
use crate::domain::topic::TopicSlug;
use crate::domain::visit::VisitRole;
use crate::service::lessons::{self, KnowledgeQuery};
use crate::state::AppState;

pub struct LessonItem {
    pub id: i64,
    pub heading: String,
    pub byline: String,
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours: i32,
    pub rating: i16,
}

pub struct LeaderItem {
    pub name: String,
    /// "5 (sinds 2019)"
    pub level: String,
    pub score: String,
    pub visits: u32,
    pub hours: i64,
    pub lessons: u32,
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

/// GET /knowledge?topic=&q=&before=
pub async fn browse(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    let lang = session.lang;
    let nl = lang == Language::Nl;
    let pairs: Vec<(String, String)> = super::decode(req.query_string().as_bytes(), lang)?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (topic_raw, q, before) = (get("topic"), get("q"), get("before"));
    let mut error = None;
    let topic = match topic_raw.as_str() {
        "" => None,
        raw => match TopicSlug::parse(raw) {
            Ok(t) => Some(t),
            Err(_) => {
                error = Some(
                    if nl {
                        "Kies een onderwerp uit de lijst."
                    } else {
                        "Pick a topic from the list."
                    }
                    .to_string(),
                );
                None
            }
        },
    };
    if parse_query(&q).is_err() {
        error = Some(if nl {
            format!("Zoek met hoogstens {MAX_QUERY_CHARS} tekens.")
        } else {
            format!("Search with at most {MAX_QUERY_CHARS} characters.")
        });
    }
    let query = KnowledgeQuery {
        topic: topic.clone(),
        kind: None,
        q: Some(q.clone()).filter(|q| !q.is_empty() && error.is_none()),
        before: before.parse().ok().filter(|b: &i64| *b > 0),
    };
    let result = lessons::browse(&state.ctx, session.user.clone(), query, lang).await;
    let found = match result {
        Ok(found) => found,
        Err(e) if matches!(e.kind(), Some(Kind::NotFound | Kind::Invalid)) => {
            error = Some(e.message(lang));
            lessons::browse(
                &state.ctx,
                session.user.clone(),
                KnowledgeQuery::default(),
                lang,
            )
            .await
            .map_err(|e| WebError::service(e, lang))?
        }
        Err(e) => return Err(WebError::service(e, lang)),
    };
    let name = |t: &crate::service::matching::TopicLabel| t.name(lang).to_string();
    let lessons = found
        .lessons
        .iter()
        .map(|l| {
            let author = match &l.author_name {
                Some(n) => n.clone(),
                None => format!(
                    "{} ({})",
                    kind_name(l.author_kind, lang),
                    l.author_size_class
                ),
            };
            let role = match (l.side, nl) {
                (VisitRole::Requester, true) => "bezoeker",
                (VisitRole::Requester, false) => "visitor",
                (VisitRole::Host, true) => "gastorganisatie",
                (VisitRole::Host, false) => "host",
            };
            let at = l
                .host
                .as_ref()
                .filter(|_| l.side == VisitRole::Requester)
                .map(|(_, h)| {
                    if nl {
                        format!(" bij {h}")
                    } else {
                        format!(" at {h}")
                    }
                })
                .unwrap_or_default();
            LessonItem {
                id: l.id,
                heading: format!("{}{at}", l.topic_name),
                byline: format!("{author}, {role}, {}", l.visit_month),
                situation: l.situation.clone(),
                strengths: l.strengths.clone(),
                mistakes: l.mistakes.clone(),
                recommendations: l.recommendations.clone(),
                hours: l.hours_saved,
                rating: l.rating,
            }
        })
        .collect();
    let (topic_name, leaders) = match &found.leaders {
        Some(list) => (
            name(&list.topic),
            list.leaders
                .iter()
                .map(|(host, leader)| LeaderItem {
                    name: host.name.clone(),
                    level: match (leader.since_year, nl) {
                        (Some(y), true) => format!("{} (sinds {y})", leader.level),
                        (Some(y), false) => format!("{} (since {y})", leader.level),
                        (None, _) => leader.level.to_string(),
                    },
                    score: {
                        let s = format!("{:.1}", leader.reputation.score);
                        if nl {
                            s.replace('.', ",")
                        } else {
                            s
                        }
                    },
                    visits: leader.reputation.visits,
                    hours: leader.reputation.hours_saved,
                    lessons: leader.reputation.published,
                })
                .collect(),
        ),
        None => (String::new(), vec![]),
    };
    let older = found.next.map(|next| {
        let mut p = vec![("before", next.to_string())];
        if !topic_raw.is_empty() {
            p.push(("topic", topic_raw.clone()));
        }
        if !q.is_empty() {
            p.push(("q", q.clone()));
        }
        format!(
            "/knowledge?{}",
            serde_urlencoded::to_string(p).unwrap_or_default()
        )
    });
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
                .map(|t| (t.slug.clone(), name(t)))
                .collect(),
            topic: topic_raw,
            topic_name,
            q,
            error,
            lessons,
            leaders,
            older,
        },
    ))
}
