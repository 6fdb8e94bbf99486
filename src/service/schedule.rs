//! The scheduler's use cases: what is due (docs/visits.md, "Scheduler"),
//! and doing one job for one visit. Above `visits` and `lessons`, whose
//! emails the jobs send.

use crate::service::context::Context;
use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::lessons;
use super::matching::Suggester;
use super::visits::{close_request, invitation_key, invitation_token, local_date, queue, Parties};
use super::ServiceError;
use crate::db::outbox;
use crate::db::visits::{self as repo, VisitRow};
use crate::domain::schedule;
pub use crate::domain::schedule::Job;
use crate::domain::visit::{Bookings, Closure, VisitEvent};
use crate::mail::templates::{Expired, Nudge, Reminder};

/// What the scheduler found to do (docs/visits.md, "Scheduler").
pub async fn due_jobs(ctx: &Context, now: NaiveDateTime) -> Result<Vec<(i64, Job)>, ServiceError> {
    use std::collections::{HashMap, HashSet};
    ctx.pool
        .run(move |conn| {
            let today = local_date(now);
            let open = repo::open(conn)?;
            // Which requests can no longer be answered, from three queries for
            // the lot: dead invitations, booked days, hosts' capacities.
            let requested: Vec<&VisitRow> =
                open.iter().filter(|r| r.state == "requested").collect();
            let keys: Vec<String> = requested.iter().map(|r| invitation_key(r.id)).collect();
            let dead: HashSet<String> = outbox::dead_among(conn, &keys)?.into_iter().collect();
            let bookings =
                Bookings::new(repo::booked_from(conn, today.with_day(1).unwrap_or(today))?);
            let mut hosts: Vec<i64> = requested.iter().map(|r| r.host_id).collect();
            hosts.sort_unstable();
            hosts.dedup();
            let capacity: HashMap<i64, i32> = repo::capacities(conn, &hosts)?.into_iter().collect();
            let stuck = |row: &VisitRow| {
                if row.state != "requested" {
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
                        state: row.state.parse().ok()?,
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
/// nudge about a request with no day left closes it instead.
pub async fn run_job(
    ctx: &Context,
    suggester: &Suggester,
    id: i64,
    job: Job,
    now: NaiveDateTime,
) -> Result<Option<Job>, ServiceError> {
    let base_url = ctx.base_url.as_str();
    let rules = ctx.rules;
    let (suggester, base_url) = (suggester.clone(), base_url.to_string());
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let p = Parties::lock(conn, id)?;
                let done = |did: bool, job: Job| did.then_some(job);
                let today = local_date(now);
                match job {
                    Job::Close(closure) => {
                        let closed = close_request(conn, &p, closure, &suggester, &base_url, now)?;
                        return Ok(done(closed, job));
                    }
                    Job::Nudge => {
                        let instead = Job::Close(Closure::NoDaysLeft);
                        if close_request(conn, &p, Closure::NoDaysLeft, &suggester, &base_url, now)?
                        {
                            return Ok(Some(instead));
                        }
                        if !repo::set_nudged(conn, id, now)? {
                            return Ok(None);
                        }
                        let Some(to) = p.host_side() else {
                            return Ok(Some(job));
                        };
                        let token = invitation_token(conn, &p, now)?;
                        let nudge = Nudge {
                            invitation: p
                                .invitation(format!("{base_url}/invitations/{token}"), to.language),
                        };
                        queue(conn, &nudge, format!("nudge:{id}"), &to, &base_url, &[])?;
                    }
                    Job::Expire => {
                        p.check(VisitEvent::Expire)?;
                        if !repo::set_expired(conn, id, now)? {
                            return Ok(None);
                        }
                        repo::use_tokens_of(conn, id, "invitation", now)?;
                        let to = p.requester_side();
                        let expired = Expired {
                            host: p.host.name.clone(),
                            coordinator: p.coordinator.name.clone(),
                            topic: p.topic(to.language),
                            days: (p.row.expires_at - p.row.created_at).num_days().max(1),
                            alternatives: p.alternatives(&suggester, to.language),
                        };
                        queue(conn, &expired, format!("expired:{id}"), &to, &base_url, &[])?;
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
                        for to in p.both_sides() {
                            let reminder = Reminder {
                                visit: p.confirmation(date, to.language),
                                start: rules.day_start.format("%H:%M").to_string(),
                                end: rules.day_end.format("%H:%M").to_string(),
                            };
                            let key = format!("reminder:{id}:{}", to.side.as_str());
                            queue(conn, &reminder, key, &to, &base_url, &[])?;
                        }
                    }
                    Job::Complete => {
                        if p.check(VisitEvent::Complete { today }).is_err()
                            || !repo::set_completed(conn, id, today, now)?
                        {
                            return Ok(None);
                        }
                        lessons::queue_forms(conn, &p, &base_url, now)?;
                    }
                    Job::RemindLessons => {
                        let did = lessons::queue_reminders(conn, &p, &base_url, now)?;
                        return Ok(done(did, job));
                    }
                    Job::FollowUp => {
                        let did = lessons::queue_followup(conn, &p, &base_url, now)?;
                        return Ok(done(did, job));
                    }
                }
                Ok(Some(job))
            })
        })
        .await
}
