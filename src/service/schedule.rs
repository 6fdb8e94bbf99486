//! The scheduler's use cases: what is due (docs/visits.md, "Scheduler"),
//! and doing one job for one visit. Above `visits` and `lessons`, whose
//! emails the jobs send.

use crate::domain::visit::VisitId;
use crate::domain::visit::{LinkPurpose, VisitState};
use crate::service::context::Context;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::events::Fanout;
use super::lessons;
use super::parties::{invitation_key, local_date, Parties};
use super::visits::close_request;
use super::ServiceError;
use crate::db::outbox;
use crate::db::visits::{self as repo, VisitRow};
use crate::domain::event::Event;
use crate::domain::schedule;
pub use crate::domain::schedule::Job;
use crate::domain::visit::{Bookings, Closure, VisitEvent};

/// What the scheduler found to do (docs/visits.md, "Scheduler").
pub async fn due_jobs(
    ctx: &Context,
    now: NaiveDateTime,
) -> Result<Vec<(VisitId, Job)>, ServiceError> {
    use std::collections::HashSet;
    ctx.pool
        .run(move |conn| {
            let today = local_date(now);
            let open = repo::open(conn)?;
            // Which requests can no longer be answered, from three queries for
            // the lot: dead invitations, booked days, hosts' capacities.
            let requested: Vec<&VisitRow> = open
                .iter()
                .filter(|r| r.state == VisitState::Requested)
                .collect();
            let keys: Vec<String> = requested.iter().map(|r| invitation_key(r.id)).collect();
            let dead: HashSet<String> = outbox::dead_among(conn, &keys)?.into_iter().collect();
            let bookings =
                Bookings::new(repo::booked_from(conn, today.with_day(1).unwrap_or(today))?);
            let mut hosts: Vec<i64> = requested.iter().map(|r| r.host_id).collect();
            hosts.sort_unstable();
            hosts.dedup();
            let capacity = repo::capacities(conn, &hosts)?;
            let stuck = |row: &VisitRow| {
                if row.state != VisitState::Requested {
                    return None;
                }
                if dead.contains(&invitation_key(row.id)) {
                    return Some(Closure::Undeliverable);
                }
                // Unreadable days or a vanished host: not ours to judge here.
                let proposed: Vec<NaiveDate> = serde_json::from_str(&row.proposed_dates).ok()?;
                let capacity = *capacity.get(&row.host_id)?;
                (!bookings.any_open(row.host_id, row.requester_id, capacity, &proposed, today))
                    .then_some(Closure::NoDaysLeft)
            };
            Ok(open
                .iter()
                .filter_map(|row| {
                    let timing = schedule::Timing {
                        state: row.state,
                        requested_at: row.created_at,
                        expires_at: row.expires_at,
                        nudged: row.nudged_at.is_some(),
                        date: row.visit_date,
                        reminded: row.reminded_at.is_some(),
                        completed_at: row.completed_at,
                        lessons_reminded: row.lessons_reminded_at.is_some(),
                        followed_up: row.followed_up_at.is_some(),
                        stuck: stuck(row),
                    };
                    schedule::next_job(&timing, now, today).map(|job| (row.id, job))
                })
                .collect())
        })
        .await
}

/// Does one scheduled job for one visit, in one transaction, and says
/// which job it did: `None` when there was nothing (left) to do (another
/// instance did it first, or the visit changed since it was listed). A
/// nudge about a request with no day left closes it instead. What it did
/// is published as an event (the emails follow from it).
pub async fn run_job(
    ctx: &Context,
    fanout: &Fanout,
    id: VisitId,
    job: Job,
    now: NaiveDateTime,
) -> Result<Option<Job>, ServiceError> {
    let fanout = fanout.clone();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let p = Parties::lock(conn, id)?;
                let today = local_date(now);
                let happened = match job {
                    Job::Close(closure) => {
                        let closed = close_request(conn, &p, closure, &fanout, now)?;
                        return Ok(closed.then_some(job));
                    }
                    Job::Nudge => {
                        if close_request(conn, &p, Closure::NoDaysLeft, &fanout, now)? {
                            return Ok(Some(Job::Close(Closure::NoDaysLeft)));
                        }
                        if !repo::set_nudged(conn, id, now)? {
                            return Ok(None);
                        }
                        Event::RequestOverdue { visit: id }
                    }
                    Job::Expire => {
                        // Answered, or expired by another instance, since
                        // the round looked: nothing to do, not a failure.
                        if p.check(VisitEvent::Expire).is_err()
                            || !repo::set_expired(conn, id, now)?
                        {
                            return Ok(None);
                        }
                        repo::use_tokens_of(conn, id, LinkPurpose::Invitation, now)?;
                        Event::VisitExpired { visit: id }
                    }
                    Job::Remind => {
                        let Some(date) = p.visit.date else {
                            return Ok(None);
                        };
                        if !schedule::reminder_due(date, today)
                            || !repo::set_reminded(conn, id, now)?
                        {
                            return Ok(None);
                        }
                        Event::VisitNear { visit: id, date }
                    }
                    Job::Complete => {
                        if p.check(VisitEvent::Complete { today }).is_err()
                            || !repo::set_completed(conn, id, today, now)?
                        {
                            return Ok(None);
                        }
                        Event::VisitCompleted { visit: id }
                    }
                    Job::RemindLessons => match lessons::overdue(conn, &p, now)? {
                        None => return Ok(None),
                        // Both sides answered meanwhile: nobody to remind.
                        Some(sides) if sides.is_empty() => return Ok(Some(job)),
                        Some(sides) => Event::LessonsOverdue { visit: id, sides },
                    },
                    Job::FollowUp => {
                        if !lessons::followup_due(conn, &p, now)? {
                            return Ok(None);
                        }
                        Event::FollowUpDue { visit: id }
                    }
                };
                fanout.publish(conn, now, happened)?;
                Ok(Some(job))
            })
        })
        .await
}
