//! Published lessons as the knowledge base shows them (to readers, and
//! to partners' webhooks): the one place that decides what of a lesson is
//! public.

use chrono::NaiveDateTime;

use crate::db::lessons as repo;
use crate::db::visits as visit_repo;
use crate::domain::lesson::{self, Lesson, LessonId, Publish};
use crate::domain::organisation::Language;
use crate::domain::visit::VisitRole;
use crate::domain::Invalid;
use crate::service::ServiceError;

/// A published lesson as anyone allowed may read it: the author's name only
/// when it chose so, otherwise its kind and size class; the host is left
/// out when it is the pseudonymous author itself.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedLesson {
    pub id: LessonId,
    pub topic: String,
    pub topic_name: String,
    /// The visit's month ("2027-03"): a day would say more than needed.
    pub visit_month: String,
    pub side: VisitRole,
    pub author_name: Option<String>,
    pub author_kind: crate::domain::organisation::OrganisationKind,
    pub author_size_class: String,
    pub host: Option<(i64, String)>,
    pub lesson: Lesson,
    pub submitted_at: NaiveDateTime,
}

impl PublishedLesson {
    /// "Cloudmigratie bij Zwolle": the topic, and the host when the author
    /// was its visitor (and may name it).
    pub fn heading(&self, lang: Language) -> String {
        let at = self
            .host
            .as_ref()
            .filter(|_| self.side == VisitRole::Requester)
            .map(|(_, h)| match lang {
                Language::Nl => format!(" bij {h}"),
                Language::En => format!(" at {h}"),
            })
            .unwrap_or_default();
        format!("{}{at}", self.topic_name)
    }

    /// "Gemeente Zwolle, bezoeker, 2027-03", or the kind and size class
    /// for an author that did not give its name.
    pub fn byline(&self, lang: Language) -> String {
        use crate::domain::organisation::kind_name;
        let author = match &self.author_name {
            Some(n) => n.clone(),
            None => format!(
                "{} ({})",
                kind_name(self.author_kind, lang),
                self.author_size_class
            ),
        };
        let role = match (self.side, lang) {
            (VisitRole::Requester, Language::Nl) => "bezoeker",
            (VisitRole::Requester, Language::En) => "visitor",
            (VisitRole::Host, Language::Nl) => "gastorganisatie",
            (VisitRole::Host, Language::En) => "host",
        };
        format!("{author}, {role}, {}", self.visit_month)
    }
}

/// Published lessons as the knowledge base shows them: each author named
/// only when it chose so, the host left out when it is the unnamed author.
pub(crate) fn shape(
    conn: &mut crate::db::DbConn,
    rows: Vec<repo::LessonRow>,
    language: Language,
) -> Result<Vec<PublishedLesson>, ServiceError> {
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| [r.organisation_id, r.host_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let organisations = repo::organisations(conn, &ids)?;
    let mut topic_ids: Vec<i64> = rows.iter().map(|r| r.topic_id).collect();
    topic_ids.sort_unstable();
    topic_ids.dedup();
    let topics = visit_repo::topic_names(conn, &topic_ids)?;
    let corrupt = |what: String| ServiceError::Internal(anyhow::anyhow!(what));
    rows.into_iter()
        .map(|row| {
            let author = organisations
                .get(&row.organisation_id)
                .cloned()
                .ok_or_else(|| corrupt(format!("lesson {}: author vanished", row.id)))?;
            let kind: crate::domain::organisation::OrganisationKind = author
                .kind
                .parse()
                .map_err(|e: Invalid| corrupt(e.message))?;
            let topic = topics
                .get(&row.topic_id)
                .cloned()
                .ok_or_else(|| corrupt(format!("lesson {}: topic vanished", row.id)))?;
            let (publish, side) = (row.publish, row.side);
            let named = publish == Publish::Named;
            // A host writing without a name must not be named as the host.
            let host = (named || side == VisitRole::Requester)
                .then(|| {
                    organisations
                        .get(&row.host_id)
                        .map(|h| (row.host_id, h.name.clone()))
                })
                .flatten();
            Ok(PublishedLesson {
                id: row.id,
                topic: topic.slug,
                topic_name: match language {
                    Language::Nl => topic.nl,
                    Language::En => topic.en,
                },
                visit_month: row.visit_date.format("%Y-%m").to_string(),
                side,
                author_name: named.then_some(author.name),
                author_kind: kind,
                author_size_class: lesson::size_class(kind, author.size, language),
                host,
                lesson: row.lesson(),
                submitted_at: row.submitted_at,
            })
        })
        .collect()
}
