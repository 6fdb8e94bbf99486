//! The host's answer (API, dashboard and email link) and what a booking
//! does to the requests it leaves without a day.

use crate::domain::visit::LinkPurpose;
use crate::domain::visit::VisitId;
use crate::service::context::Context;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::auth::links;
use crate::db::outbox;
use crate::db::visits::{self as repo};
use crate::db::{self, DbConn, DbPool};
use crate::domain::account::User;
use crate::domain::event::Event;
use crate::domain::organisation::{Language, OrganisationId};
use crate::domain::refusal::{LinkRefusal, VisitRefusal};
use crate::domain::visit::{
    obstacle, parse_reason, Closure, DayFacts, Obstacle, VisitEvent, VisitState,
};
use crate::domain::Invalid;
use crate::service::events::Fanout;
use crate::service::parties::{invitation_key, local_date, view, Parties, VisitView};
use crate::service::ServiceError;

use super::{authorise, Act};

/// The host's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// One of the proposed days.
    Accept(NaiveDate),
    Decline(Option<String>),
}

/// A coordinator of the host organisation answers over the API.
pub async fn answer_visit(
    ctx: &Context,
    user: User,
    id: VisitId,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let now = ctx.now();
    let fanout = ctx.fanout().await?;
    let sweeper = fanout.clone();
    let visit = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                authorise(conn, &user, id, Act::Answer)?;
                if let Answer::Decline(reason) = &answer {
                    parse_reason(reason.as_deref()).map_err(|e| Invalid::of("reason", e))?;
                }
                answer_in_tx(conn, &fanout, id, answer, now)
            })
        })
        .await?;
    close_stuck_after(&ctx.pool, &sweeper, &visit, now).await;
    Ok(visit)
}

/// After a booking: the requests it left without a day that can still be
/// booked (the host's and the requester's, on either side) are closed at
/// once, each in its own transaction with its host locked, so that a
/// host is never asked, or nudged, about a request it cannot accept. Runs
/// after the booking committed: the booking stands whatever happens here,
/// and what is left undone (a crash, an error) the scheduler's next round
/// finds too.
async fn close_stuck_after(pool: &DbPool, fanout: &Fanout, booked: &VisitView, now: NaiveDateTime) {
    if booked.state != VisitState::Accepted {
        return;
    }
    let involved = [booked.host_id, booked.requester_id];
    let ids = match pool
        .run(move |conn| Ok::<_, ServiceError>(repo::requested_involving(conn, &involved)?))
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(visit = %booked.id, error = %e, "could not look for requests the booking closed; the scheduler will");
            return;
        }
    };
    for id in ids {
        let fanout = fanout.clone();
        let closed = pool
            .run(move |conn| {
                conn.write(|conn| {
                    let p = Parties::lock(conn, id)?;
                    let closed = close_request(conn, &p, Closure::NoDaysLeft, &fanout, now)?;
                    Ok::<_, ServiceError>(closed.then_some(()))
                })
            })
            .await;
        match closed {
            Ok(Some(_)) => tracing::info!(
                visit = %id,
                booked = %booked.id,
                "request closed: no proposed day left"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(visit = %id, error = %e, "could not close a request; the scheduler will")
            }
        }
    }
}

/// The answer, inside the caller's transaction: the state machine decides
/// whether it may happen; the host's row lock (PostgreSQL) or the write
/// lock (SQLite) makes the day and capacity checks race-free, and the
/// unique indexes back them up. What happened is published with it.
fn answer_in_tx(
    conn: &mut DbConn,
    fanout: &Fanout,
    id: VisitId,
    answer: Answer,
    now: NaiveDateTime,
) -> Result<VisitView, ServiceError> {
    let p = Parties::lock(conn, id)?;
    let happened = match answer {
        Answer::Accept(date) => {
            p.check(VisitEvent::Accept(date))?;
            book(conn, &p, date, now)?;
            Event::VisitAccepted { visit: id, date }
        }
        Answer::Decline(reason) => {
            p.check(VisitEvent::Decline)?;
            let reason = parse_reason(reason.as_deref())?;
            if !repo::set_declined(conn, id, reason.as_deref(), now)? {
                return Err(VisitRefusal::AlreadyAnswered.into());
            }
            Event::VisitDeclined { visit: id, reason }
        }
    };
    repo::use_tokens_of(conn, id, LinkPurpose::Invitation, now)?;
    Ok(fanout.publish(conn, now, happened)?.visit)
}

/// Books the day: the host's and the requester's other visits that day and
/// the host's monthly capacity decide; the unique indexes catch what slips
/// past (they never should, with the host locked).
fn book(
    conn: &mut DbConn,
    p: &Parties,
    date: NaiveDate,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let id = p.row.id;
    if let Some(o) = obstacle_on(conn, p, date, local_date(now))? {
        return Err(VisitRefusal::day(o, date, &p.host.name, &p.requester.name).into());
    }
    match repo::set_accepted(conn, id, date, now) {
        Ok(true) => Ok(()),
        Ok(false) => Err(VisitRefusal::AlreadyAnswered.into()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(VisitRefusal::DayTaken { who: None, date }.into()),
        Err(e) => Err(e.into()),
    }
}

/// What keeps `date` from being booked for this visit, if anything: the
/// domain's rule on what the calendars say (no query for a day gone by).
fn obstacle_on(
    conn: &mut DbConn,
    p: &Parties,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<Option<Obstacle>, ServiceError> {
    let facts = if date <= today {
        DayFacts::default()
    } else {
        let first = date.with_day(1).unwrap_or(date);
        let last = (first + chrono::Months::new(1)).pred_opt().unwrap_or(date);
        DayFacts {
            host_busy: repo::booked_on(conn, p.row.host_id, date)?,
            requester_busy: repo::booked_on(conn, p.row.requester_id, date)?,
            hosted_that_month: repo::hosted_between(conn, p.row.host_id, first, last)?,
        }
    };
    Ok(obstacle(date, today, p.host.monthly_capacity, facts))
}

/// Meeloop closes a request nobody can answer any more, if that is still
/// so with the host locked: `closure` is checked again (the scheduler's
/// list may be old). The requester is told why, day by day, and whom else
/// to ask; the host's invitation link stops working. `false` if there was
/// nothing to close.
pub(crate) fn close_request(
    conn: &mut DbConn,
    p: &Parties,
    closure: Closure,
    fanout: &Fanout,
    now: NaiveDateTime,
) -> Result<bool, ServiceError> {
    let id = p.row.id;
    if p.check(VisitEvent::Close).is_err() {
        return Ok(false);
    }
    // Each proposed day that is gone, with why (only a closure for that
    // reason looks at the days).
    let mut gone = Vec::new();
    let still = match closure {
        Closure::NoDaysLeft => {
            for &date in &p.visit.proposed_dates {
                match obstacle_on(conn, p, date, local_date(now))? {
                    Some(o) => gone.push((date, o)),
                    None => return Ok(false),
                }
            }
            true
        }
        Closure::Undeliverable => !outbox::dead_among(conn, &[invitation_key(id)])?.is_empty(),
    };
    if !still || !repo::set_closed(conn, id, closure.as_str(), now)? {
        return Ok(false);
    }
    repo::use_tokens_of(conn, id, LinkPurpose::Invitation, now)?;
    let closed = Event::VisitClosed {
        visit: id,
        closure,
        days: gone,
    };
    fanout.publish(conn, now, closed)?;
    Ok(true)
}

/// What an invitation link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationLink {
    /// Waiting for the host's answer.
    Open {
        visit: VisitView,
        language: Language,
    },
    /// Answered (or cancelled, expired, completed): the visit's state says
    /// what happened, for a page that explains it.
    Closed {
        visit: VisitView,
        language: Language,
    },
    /// Not one of ours, or not an invitation.
    Unknown,
}

/// Reads what a link is about. Changes nothing, however often a link
/// scanner fetches it.
pub async fn invitation(ctx: &Context, token: &str) -> Result<InvitationLink, ServiceError> {
    let now = ctx.now();
    let Some(hash) = links::hash(token) else {
        return Ok(InvitationLink::Unknown);
    };
    ctx.pool
        .run(move |conn| {
            let Some(link) =
                repo::find_token(conn, &hash)?.filter(|t| t.purpose == LinkPurpose::Invitation)
            else {
                return Ok(InvitationLink::Unknown);
            };
            let row = repo::find(conn, link.visit_id)?.ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("visit {} vanished", link.visit_id))
            })?;
            let language = db::organisations::find(conn, OrganisationId(link.organisation_id))?
                .map(|o| o.language)
                .unwrap_or_default();
            let visit = view(conn, row)?;
            let open = visit.state == VisitState::Requested && link.usable(now);
            Ok(if open {
                InvitationLink::Open { visit, language }
            } else {
                InvitationLink::Closed { visit, language }
            })
        })
        .await
}

/// The host answers through the invitation link: valid, unused and
/// unexpired, or the answer is refused (409) and nothing changes.
pub async fn answer_invitation(
    ctx: &Context,
    token: &str,
    answer: Answer,
) -> Result<VisitView, ServiceError> {
    let now = ctx.now();
    let hash = links::hash(token).ok_or(LinkRefusal::InvalidLink)?;
    let fanout = ctx.fanout().await?;
    let sweeper = fanout.clone();
    let visit = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                let link = repo::find_token(conn, &hash)?
                    .filter(|t| t.purpose == LinkPurpose::Invitation)
                    .ok_or(LinkRefusal::InvalidLink)?;
                if link.used_at.is_some() {
                    let closed = Parties::load(conn, link.visit_id)?;
                    return Err(match closed.visit.closed {
                        Some(closure) => VisitRefusal::ClosedByMeeloop {
                            host: closed.host.name,
                            closure,
                        }
                        .into(),
                        None => VisitRefusal::AlreadyAnswered.into(),
                    });
                }
                if link.expires_at <= now {
                    return Err(LinkRefusal::LinkExpired.into());
                }
                answer_in_tx(conn, &fanout, link.visit_id, answer, now)
            })
        })
        .await?;
    close_stuck_after(&ctx.pool, &sweeper, &visit, now).await;
    Ok(visit)
}
