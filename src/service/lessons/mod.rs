//! Lessons learned: the forms after a visit, from the emailed link or the
//! API (docs/lessons.md).

mod followup;
mod knowledge;

pub(crate) use followup::followup_due;
pub use followup::{followup_link, submit_followup, FollowUpAnswer, FollowUpLink};
pub use knowledge::{
    browse, knowledge_base, statistics, Browse, KnowledgeQuery, PublishedLesson, Reader,
};

use crate::domain::visit::LinkPurpose;
use crate::domain::visit::VisitId;
use crate::service::context::Context;
use chrono::NaiveDateTime;

use super::events::Fanout;
use super::parties::Parties;
use super::ServiceError;
use crate::auth::links;
use crate::db::lessons::{self as repo, LessonPlace, LessonRow};
use crate::db::visits as visit_repo;
use crate::db::DbConn;
use crate::domain::account::{Role, User};
use crate::domain::event::Event;
use crate::domain::lesson::{self, schedule, Draft, Lesson, LessonId};
use crate::domain::organisation::Language;
use crate::domain::refusal::{LessonRefusal, LinkRefusal, VisitRefusal};
use crate::domain::visit::{VisitRole, VisitState};
use crate::domain::Invalid;

/// A side's lesson as shown to the two organisations and admins.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonView {
    pub id: LessonId,
    pub visit_id: VisitId,
    pub side: VisitRole,
    pub lesson: Lesson,
    pub submitted_at: NaiveDateTime,
}

fn view(row: LessonRow) -> Result<LessonView, ServiceError> {
    Ok(LessonView {
        id: row.id,
        visit_id: row.visit_id,
        side: row.side,
        lesson: row.lesson(),
        submitted_at: row.submitted_at,
    })
}

/// Inside the scheduler's transaction: the sides that have not sent their
/// lesson a week after the forms, once; `None` when it is not due or
/// another instance dealt with it first.
pub(super) fn overdue(
    conn: &mut DbConn,
    p: &Parties,
    now: NaiveDateTime,
) -> Result<Option<Vec<VisitRole>>, ServiceError> {
    let Some(completed_at) = p.row.completed_at else {
        return Ok(None);
    };
    if now < completed_at + chrono::Duration::days(lesson::REMINDER_DAYS)
        || !visit_repo::set_lessons_reminded(conn, p.row.id, now)?
    {
        return Ok(None);
    }
    if !schedule::reminder_due(completed_at, now) {
        // The links ran out while the scheduler was down: too late to remind.
        return Ok(None);
    }
    let answered: Vec<VisitRole> = repo::for_visit(conn, p.row.id)?
        .into_iter()
        .map(|l| l.side)
        .collect();
    Ok(Some(
        [VisitRole::Requester, VisitRole::Host]
            .into_iter()
            .filter(|side| !answered.contains(side))
            .collect(),
    ))
}

/// Stores one side's lesson, once; uses up that side's form links.
fn store(
    conn: &mut DbConn,
    fanout: &Fanout,
    p: &Parties,
    side: VisitRole,
    lesson: Lesson,
    author: Option<i64>,
    now: NaiveDateTime,
) -> Result<LessonView, ServiceError> {
    let id = p.row.id;
    if p.visit.state != VisitState::Completed {
        return Err(LessonRefusal::VisitNotHeld {
            state: p.visit.state,
        }
        .into());
    }
    let date = p.visit.date.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("completed visit {id} has no day"))
    })?;
    let publish = lesson.publish;
    let place = LessonPlace {
        visit_id: id,
        side,
        organisation_id: p.organisation_of(side),
        host_id: p.row.host_id,
        topic_id: p.row.topic_id,
        visit_date: date,
        author_id: author,
        submitted_at: now,
    };
    let stored = repo::insert(conn, place, lesson)?;
    if stored.is_none() {
        return Err(LessonRefusal::LessonsSent { side }.into());
    }
    visit_repo::use_tokens_for(conn, id, LinkPurpose::Lessons, p.organisation_of(side), now)?;
    for happened in Event::lesson_submitted(id, side, publish) {
        fanout.publish(conn, now, happened)?;
    }
    let row = repo::for_visit(conn, id)?
        .into_iter()
        .find(|l| l.side == side)
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("lesson of visit {id} vanished")))?;
    view(row)
}

/// What a form link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum FormLink {
    /// Waiting for this side's answer.
    Open(FormContext),
    /// This side answered already (the lesson), or the link ran out (`None`).
    Closed(FormContext, Option<LessonView>),
    Unknown,
}

/// Who fills in which form about which visit.
#[derive(Debug, Clone, PartialEq)]
pub struct FormContext {
    pub side: VisitRole,
    pub language: Language,
    pub visit: super::visits::VisitView,
    pub expires_at: NaiveDateTime,
}

/// Reads what a form link is about. Changes nothing, however often a link
/// scanner fetches it.
pub async fn form_link(ctx: &Context, token: &str) -> Result<FormLink, ServiceError> {
    let now = ctx.now();
    let Some(hash) = links::hash(token) else {
        return Ok(FormLink::Unknown);
    };
    ctx.pool
        .run(move |conn| {
            let Some(link) =
                visit_repo::find_token(conn, &hash)?.filter(|t| t.purpose == LinkPurpose::Lessons)
            else {
                return Ok(FormLink::Unknown);
            };
            let p = Parties::load(conn, link.visit_id)?;
            let (side, language) = if link.organisation_id == p.row.host_id {
                (VisitRole::Host, p.host.language)
            } else {
                (VisitRole::Requester, p.requester.language)
            };
            let context = FormContext {
                side,
                language,
                visit: p.visit.clone(),
                expires_at: link.expires_at,
            };
            let answered = repo::for_visit(conn, p.row.id)?
                .into_iter()
                .find(|l| l.side == side)
                .map(view)
                .transpose()?;
            Ok(match answered {
                Some(lesson) => FormLink::Closed(context, Some(lesson)),
                None if !link.usable(now) => FormLink::Closed(context, None),
                None => FormLink::Open(context),
            })
        })
        .await
}

/// The form sent from its emailed link (checked by the page first).
pub async fn submit_by_link(
    ctx: &Context,
    token: &str,
    lesson: Lesson,
) -> Result<LessonView, ServiceError> {
    let now = ctx.now();
    let hash = links::hash(token).ok_or(LinkRefusal::InvalidLink)?;
    let fanout = ctx.fanout().await?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let link = visit_repo::find_token(conn, &hash)?
                    .filter(|t| t.purpose == LinkPurpose::Lessons)
                    .ok_or(LinkRefusal::InvalidLink)?;
                if link.used_at.is_some() {
                    return Err(LinkRefusal::FormSent.into());
                }
                if link.expires_at <= now {
                    return Err(LinkRefusal::LinkExpired.into());
                }
                let p = Parties::lock(conn, link.visit_id)?;
                let side = if link.organisation_id == p.row.host_id {
                    VisitRole::Host
                } else {
                    VisitRole::Requester
                };
                store(conn, &fanout, &p, side, lesson, None, now)
            })
        })
        .await
}

/// The lessons form of a logged-in coordinator's side of a held visit,
/// and that side's lesson if it was sent already.
pub async fn own_form(
    ctx: &Context,
    user: User,
    visit: VisitId,
    language: Language,
) -> Result<(FormContext, Option<LessonView>), ServiceError> {
    ctx.pool
        .run(move |conn| {
            let row = super::visits::visible(conn, &user, visit)?;
            let side = match user.organisation_id.map(|o| o.0) {
                Some(org) if user.role == Role::Coordinator && org == row.host_id => {
                    VisitRole::Host
                }
                Some(org) if user.role == Role::Coordinator && org == row.requester_id => {
                    VisitRole::Requester
                }
                _ => return Err(VisitRefusal::PartiesWriteLessons.into()),
            };
            let Some(completed) = row
                .completed_at
                .filter(|_| row.state == VisitState::Completed)
            else {
                return Err(LessonRefusal::FormNotOpen.into());
            };
            let p = Parties::load(conn, visit)?;
            let context = FormContext {
                side,
                language,
                visit: p.visit.clone(),
                expires_at: crate::domain::lesson::schedule::form_expires(completed),
            };
            let answered = repo::for_visit(conn, visit)?
                .into_iter()
                .find(|l| l.side == side)
                .map(view)
                .transpose()?;
            Ok((context, answered))
        })
        .await
}

/// A coordinator of either side sends their side's lesson over the API.
pub async fn submit_lesson(
    ctx: &Context,
    user: User,
    visit: VisitId,
    draft: Draft,
    language: Language,
) -> Result<LessonView, ServiceError> {
    let now = ctx.now();
    let fanout = ctx.fanout().await?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let (_, side) =
                    super::visits::authorise(conn, &user, visit, super::visits::Act::WriteLessons)?;
                let lesson = lesson::check(&draft, side, language).map_err(|errors| {
                    Invalid::new(
                        errors
                            .iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                })?;
                let p = Parties::lock(conn, visit)?;
                store(conn, &fanout, &p, side, lesson, Some(user.id.0), now)
            })
        })
        .await
}

/// A visit's lessons, published or not, for the two organisations of the
/// visit and admins; anyone else gets the same 404 as for no visit.
pub async fn visit_lessons(
    ctx: &Context,
    user: User,
    visit: VisitId,
) -> Result<Vec<LessonView>, ServiceError> {
    ctx.pool
        .run(move |conn| {
            super::visits::visible(conn, &user, visit)?;
            repo::for_visit(conn, visit)?
                .into_iter()
                .map(view)
                .collect()
        })
        .await
}
