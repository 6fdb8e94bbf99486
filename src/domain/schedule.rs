//! The scheduler's clock for one visit (docs/visits.md, "Scheduler").
//! Above both `visit` and `lesson`: the jobs of a visit include its lessons
//! reminder and the follow-up.

use crate::domain::visit::{Closure, VisitState};

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::calendar::working_days_before;

/// One nudge to the host, halfway between the request and its expiry.
pub fn nudge_due(requested: NaiveDateTime, expires: NaiveDateTime, now: NaiveDateTime) -> bool {
    now >= requested + (expires - requested) / 2 && now < expires
}

/// The unanswered request has run out.
pub fn expired(expires: NaiveDateTime, now: NaiveDateTime) -> bool {
    now >= expires
}

/// Both sides hear from us two working days before the visit (on a
/// Monday visit: the Thursday before).
pub fn reminder_day(visit: NaiveDate) -> NaiveDate {
    working_days_before(visit, 2)
}

/// From the reminder day until the day itself: a scheduler that was
/// down on the reminder day still reminds, but never afterwards.
pub fn reminder_due(visit: NaiveDate, today: NaiveDate) -> bool {
    today >= reminder_day(visit) && today < visit
}

/// What the scheduler does to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Remind the host of an unanswered request (once).
    Nudge,
    /// The request ran out unanswered.
    Expire,
    /// Tell both sides the day is near (once).
    Remind,
    /// The day has passed: the visit is held, the lessons forms go out.
    Complete,
    /// A week after the forms: one reminder to the sides that did not answer.
    RemindLessons,
    /// Three months after the visit: ask the requester what came of it.
    FollowUp,
    /// Call off a request nobody can answer any more, and tell the requester.
    Close(Closure),
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Nudge => "nudge",
            Job::Expire => "expire",
            Job::Remind => "remind",
            Job::Complete => "complete",
            Job::RemindLessons => "remind-lessons",
            Job::FollowUp => "follow-up",
            Job::Close(_) => "close",
        }
    }
}

/// What the scheduler needs to know about one visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub state: VisitState,
    pub requested_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub nudged: bool,
    pub date: Option<NaiveDate>,
    pub reminded: bool,
    pub completed_at: Option<NaiveDateTime>,
    pub lessons_reminded: bool,
    pub followed_up: bool,
    /// Why a request can no longer be answered, if it cannot.
    pub stuck: Option<Closure>,
}

/// The job due now, if any. An undeliverable invitation beats expiry
/// (the host never had a chance); expiry beats days that are gone, and
/// those beat the nudge (a host is never nudged about a request it
/// cannot accept); completion beats a reminder that was never sent (a
/// scheduler down for days does not remind after the fact).
pub fn next_job(t: &Timing, now: NaiveDateTime, today: NaiveDate) -> Option<Job> {
    use VisitState as S;
    match (t.state, t.date) {
        (S::Requested, _) if t.stuck == Some(Closure::Undeliverable) => {
            Some(Job::Close(Closure::Undeliverable))
        }
        (S::Requested, _) if expired(t.expires_at, now) => Some(Job::Expire),
        (S::Requested, _) if t.stuck.is_some() => t.stuck.map(Job::Close),
        (S::Requested, _) if !t.nudged && nudge_due(t.requested_at, t.expires_at, now) => {
            Some(Job::Nudge)
        }
        (S::Accepted, Some(date)) if today > date => Some(Job::Complete),
        (S::Accepted, Some(date)) if !t.reminded && reminder_due(date, today) => Some(Job::Remind),
        (S::Completed, _)
            if !t.lessons_reminded
                && t.completed_at.is_some_and(|done| {
                    now >= done + chrono::Duration::days(crate::domain::lesson::REMINDER_DAYS)
                }) =>
        {
            Some(Job::RemindLessons)
        }
        (S::Completed, Some(date))
            if !t.followed_up && crate::domain::lesson::schedule::followup_due(date, today) =>
        {
            Some(Job::FollowUp)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::d;
    use crate::domain::visit::{transition, Visit, VisitEvent};

    #[test]
    fn the_nudge_comes_halfway_and_never_after_expiry() {
        use chrono::Duration;
        let asked = d(2027, 3, 1).and_hms_opt(10, 0, 0).unwrap();
        let expires = asked + Duration::days(14);
        assert!(!nudge_due(asked, expires, asked + Duration::days(6)));
        assert!(nudge_due(asked, expires, asked + Duration::days(7)));
        assert!(nudge_due(asked, expires, expires - Duration::seconds(1)));
        assert!(!nudge_due(asked, expires, expires));
        assert!(!expired(expires, expires - Duration::seconds(1)));
        assert!(expired(expires, expires));
    }

    #[test]
    fn the_scheduler_picks_one_job_per_visit() {
        use chrono::Duration;
        use {next_job, Job, Timing};
        let asked = d(2027, 3, 1).and_hms_opt(10, 0, 0).unwrap();
        let requested = Timing {
            state: VisitState::Requested,
            requested_at: asked,
            expires_at: asked + Duration::days(14),
            nudged: false,
            date: None,
            reminded: false,
            completed_at: None,
            lessons_reminded: false,
            followed_up: false,
            stuck: None,
        };
        let at = |days: i64| asked + Duration::days(days);
        assert_eq!(next_job(&requested, at(1), at(1).date()), None);
        assert_eq!(next_job(&requested, at(8), at(8).date()), Some(Job::Nudge));
        let nudged = Timing {
            nudged: true,
            ..requested
        };
        assert_eq!(next_job(&nudged, at(8), at(8).date()), None);
        assert_eq!(next_job(&nudged, at(14), at(14).date()), Some(Job::Expire));
        // Never nudged (scheduler down): expiry, not a late nudge.
        assert_eq!(
            next_job(&requested, at(20), at(20).date()),
            Some(Job::Expire)
        );
        let accepted = Timing {
            state: VisitState::Accepted,
            date: Some(d(2027, 3, 9)),
            ..requested
        };
        let noon = |day: NaiveDate| day.and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(
            next_job(&accepted, noon(d(2027, 3, 4)), d(2027, 3, 4)),
            None
        );
        assert_eq!(
            next_job(&accepted, noon(d(2027, 3, 5)), d(2027, 3, 5)),
            Some(Job::Remind)
        );
        let reminded = Timing {
            reminded: true,
            ..accepted
        };
        assert_eq!(
            next_job(&reminded, noon(d(2027, 3, 8)), d(2027, 3, 8)),
            None
        );
        assert_eq!(
            next_job(&reminded, noon(d(2027, 3, 9)), d(2027, 3, 9)),
            None
        );
        assert_eq!(
            next_job(&accepted, noon(d(2027, 3, 10)), d(2027, 3, 10)),
            Some(Job::Complete)
        );
        for state in [
            VisitState::Declined,
            VisitState::Expired,
            VisitState::Cancelled,
            VisitState::Completed,
        ] {
            let closed = Timing { state, ..accepted };
            assert_eq!(
                next_job(&closed, noon(d(2027, 4, 1)), d(2027, 4, 1)),
                None,
                "{state}"
            );
        }
        // A week after completion: one reminder about the lessons forms.
        let held = Timing {
            state: VisitState::Completed,
            completed_at: Some(noon(d(2027, 3, 10))),
            ..accepted
        };
        let at = |day: u32| (noon(d(2027, 3, day)), d(2027, 3, day));
        assert_eq!(next_job(&held, at(16).0, at(16).1), None);
        assert_eq!(
            next_job(&held, at(17).0, at(17).1),
            Some(Job::RemindLessons)
        );
        let done = Timing {
            lessons_reminded: true,
            ..held
        };
        assert_eq!(next_job(&done, at(17).0, at(17).1), None);
        // Three months after the day (9 March): the follow-up, once.
        let june = |day: u32| (noon(d(2027, 6, day)), d(2027, 6, day));
        assert_eq!(next_job(&done, june(8).0, june(8).1), None);
        assert_eq!(next_job(&done, june(9).0, june(9).1), Some(Job::FollowUp));
        let asked = Timing {
            followed_up: true,
            ..done
        };
        assert_eq!(next_job(&asked, june(9).0, june(9).1), None);
    }

    #[test]
    fn a_request_nobody_can_answer_is_closed_never_nudged() {
        use chrono::Duration;
        use {next_job, Job, Timing};
        let asked = d(2027, 3, 1).and_hms_opt(10, 0, 0).unwrap();
        let at = |days: i64| asked + Duration::days(days);
        let stuck = Timing {
            state: VisitState::Requested,
            requested_at: asked,
            expires_at: at(14),
            nudged: false,
            date: None,
            reminded: false,
            completed_at: None,
            lessons_reminded: false,
            followed_up: false,
            stuck: Some(Closure::NoDaysLeft),
        };
        // At once, and at the halfway point: closed, not nudged.
        for day in [0, 8] {
            assert_eq!(
                next_job(&stuck, at(day), at(day).date()),
                Some(Job::Close(Closure::NoDaysLeft))
            );
        }
        // Ran out anyway: the requester hears it expired.
        assert_eq!(next_job(&stuck, at(14), at(14).date()), Some(Job::Expire));
        // An invitation that never arrived: closed, even past expiry.
        let lost = Timing {
            stuck: Some(Closure::Undeliverable),
            ..stuck
        };
        assert_eq!(
            next_job(&lost, at(20), at(20).date()),
            Some(Job::Close(Closure::Undeliverable))
        );
        // Only requests are closed.
        let accepted = Timing {
            state: VisitState::Accepted,
            date: Some(d(2027, 3, 9)),
            ..lost
        };
        assert_eq!(next_job(&accepted, at(1), at(1).date()), None);
        // The state machine agrees: close only what waits for an answer.
        let request = Visit {
            state: VisitState::Requested,
            proposed_dates: vec![d(2027, 3, 9)],
            date: None,
        };
        assert_eq!(
            transition(&request, VisitEvent::Close),
            Ok(VisitState::Cancelled)
        );
        for state in VisitState::ALL {
            if state != VisitState::Requested {
                let other = Visit {
                    state,
                    date: Some(d(2027, 3, 9)),
                    ..request.clone()
                };
                assert!(transition(&other, VisitEvent::Close).is_err(), "{state}");
            }
        }
    }

    #[test]
    fn the_reminder_comes_two_working_days_before() {
        // Tuesday 9 March 2027 → Friday 5 March; Monday 8 March → Thursday 4 March.
        assert_eq!(reminder_day(d(2027, 3, 9)), d(2027, 3, 5));
        assert_eq!(reminder_day(d(2027, 3, 8)), d(2027, 3, 4));
        // Tuesday after Easter 2027: Easter Monday 29 March is a holiday,
        // Good Friday 26 March is a working day, so the reminder goes on
        // Thursday 25 March.
        assert_eq!(reminder_day(d(2027, 3, 30)), d(2027, 3, 25));
        assert!(!reminder_due(d(2027, 3, 9), d(2027, 3, 4)));
        assert!(reminder_due(d(2027, 3, 9), d(2027, 3, 5)));
        assert!(reminder_due(d(2027, 3, 9), d(2027, 3, 8)));
        assert!(!reminder_due(d(2027, 3, 9), d(2027, 3, 9)));
    }
}
