//! Three months on: what came of a visit, asked of the requester.

use crate::domain::visit::LinkPurpose;
use crate::service::context::Context;
use chrono::NaiveDateTime;

use super::*;
use crate::auth::links;
use crate::db::lessons::{self as repo};
use crate::db::visits as visit_repo;
use crate::db::DbConn;
use crate::domain::event::Event;
use crate::domain::lesson::{self, schedule};
use crate::domain::refusal::{LessonRefusal, LinkRefusal};
use crate::domain::visit::VisitRole;
use crate::domain::Invalid;
use crate::service::parties::{local_date, Parties};
use crate::service::ServiceError;

/// Inside the scheduler's transaction: whether the requester is to be
/// asked, three months after the visit, what came of it (once). `false`
/// when it is not due or another instance did it.
pub(crate) fn followup_due(
    conn: &mut DbConn,
    p: &Parties,
    now: NaiveDateTime,
) -> Result<bool, ServiceError> {
    let Some(date) = p.visit.date else {
        return Ok(false);
    };
    Ok(schedule::followup_due(date, local_date(now))
        && visit_repo::set_followed_up(conn, p.row.id, now)?)
}

/// The requester's answer to the follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpAnswer {
    pub applied: lesson::Applied,
    pub changes: String,
    pub answered_at: NaiveDateTime,
}

/// What a follow-up link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUpLink {
    Open(FormContext),
    /// Answered (with the answer), or the link ran out (`None`).
    Closed(FormContext, Option<FollowUpAnswer>),
    Unknown,
}

/// Reads what a follow-up link is about; changes nothing.
pub async fn followup_link(ctx: &Context, token: &str) -> Result<FollowUpLink, ServiceError> {
    let now = ctx.now();
    let Some(hash) = links::hash(token) else {
        return Ok(FollowUpLink::Unknown);
    };
    ctx.pool
        .run(move |conn| {
            let Some(link) =
                visit_repo::find_token(conn, &hash)?.filter(|t| t.purpose == LinkPurpose::FollowUp)
            else {
                return Ok(FollowUpLink::Unknown);
            };
            let p = Parties::load(conn, link.visit_id)?;
            let context = FormContext {
                side: VisitRole::Requester,
                language: p.requester.language,
                visit: p.visit.clone(),
                expires_at: link.expires_at,
            };
            let answer = repo::find_followup(conn, p.row.id)?
                .map(|row| {
                    Ok::<_, ServiceError>(FollowUpAnswer {
                        applied: row.applied.parse().map_err(|e: Invalid| {
                            ServiceError::Internal(anyhow::anyhow!(e.message))
                        })?,
                        changes: row.changes,
                        answered_at: row.answered_at,
                    })
                })
                .transpose()?;
            Ok(match answer {
                Some(answer) => FollowUpLink::Closed(context, Some(answer)),
                None if !link.usable(now) => FollowUpLink::Closed(context, None),
                None => FollowUpLink::Open(context),
            })
        })
        .await
}

/// Saves the follow-up from its link, once.
pub async fn submit_followup(
    ctx: &Context,
    token: &str,
    applied: lesson::Applied,
    changes: String,
) -> Result<(), ServiceError> {
    let now = ctx.now();
    let hash = links::hash(token).ok_or(LinkRefusal::InvalidLink)?;
    let fanout = ctx.fanout().await?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let link = visit_repo::find_token(conn, &hash)?
                    .filter(|t| t.purpose == LinkPurpose::FollowUp)
                    .ok_or(LinkRefusal::InvalidLink)?;
                if !link.usable(now) {
                    return Err(LinkRefusal::LinkUsed.into());
                }
                let stored = repo::insert_followup(
                    conn,
                    &repo::FollowUpRow {
                        visit_id: link.visit_id.0,
                        applied: applied.as_str().to_string(),
                        changes,
                        answered_at: now,
                    },
                )?;
                if !stored {
                    return Err(LessonRefusal::FollowupAnswered.into());
                }
                visit_repo::use_tokens_for(
                    conn,
                    link.visit_id,
                    LinkPurpose::FollowUp,
                    link.organisation_id,
                    now,
                )?;
                let answered = Event::FollowUpAnswered {
                    visit: link.visit_id,
                };
                fanout.publish(conn, now, answered)?;
                Ok(())
            })
        })
        .await
}
