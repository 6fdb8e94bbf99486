//! The life of a shadow visit, as a pure state machine, and the rules for
//! a request: proposed dates, goal, participants.
//!
//! ```text
//! requested ──accept(date)──▶ accepted ──complete (after the day)──▶ completed
//!     │  ╲──decline──▶ declined        │
//!     │   ╲─expire──▶ expired          └──cancel──▶ cancelled
//!     └──cancel, close──▶ cancelled
//! ```
//!
//! `close` is Meeloop's own: a request nobody can answer any more (the
//! invitation could not be delivered, or none of the proposed days can
//! still be booked) is called off, with a [`Closure`] saying why.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use super::calendar::{working_day, DayOff};
use super::lesson::FieldError;
use super::organisation::Language;
use super::refusal::VisitRefusal;
use super::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitState {
    Requested,
    Accepted,
    Declined,
    Expired,
    Cancelled,
    Completed,
}

impl VisitState {
    pub const ALL: [VisitState; 6] = [
        VisitState::Requested,
        VisitState::Accepted,
        VisitState::Declined,
        VisitState::Expired,
        VisitState::Cancelled,
        VisitState::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitState::Requested => "requested",
            VisitState::Accepted => "accepted",
            VisitState::Declined => "declined",
            VisitState::Expired => "expired",
            VisitState::Cancelled => "cancelled",
            VisitState::Completed => "completed",
        }
    }

    /// No event changes it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            VisitState::Declined
                | VisitState::Expired
                | VisitState::Cancelled
                | VisitState::Completed
        )
    }
}

impl fmt::Display for VisitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VisitState {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        VisitState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Invalid::new(format!(
                    "unknown visit state '{s}'; expected one of requested, accepted, declined, expired, cancelled, completed"
                ))
            })
    }
}

/// Which side of a visit an organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitRole {
    Requester,
    Host,
}

impl VisitRole {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitRole::Requester => "requester",
            VisitRole::Host => "host",
        }
    }
}

impl FromStr for VisitRole {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "requester" => Ok(VisitRole::Requester),
            "host" => Ok(VisitRole::Host),
            _ => Err(Invalid::new(format!(
                "unknown role '{s}'; expected requester or host"
            ))),
        }
    }
}

/// Something that happens to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitEvent {
    /// The host picks one of the proposed dates.
    Accept(NaiveDate),
    Decline,
    /// The invitation ran out without an answer.
    Expire,
    /// Either side calls it off.
    Cancel,
    /// Meeloop calls off a request that can no longer be answered.
    Close,
    /// The day has passed (`today` is after the visit's date).
    Complete {
        today: NaiveDate,
    },
}

impl VisitEvent {
    fn name(&self) -> &'static str {
        match self {
            VisitEvent::Accept(_) => "accept",
            VisitEvent::Decline => "decline",
            VisitEvent::Expire => "expire",
            VisitEvent::Cancel => "cancel",
            VisitEvent::Close => "close",
            VisitEvent::Complete { .. } => "complete",
        }
    }
}

/// An event the visit's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a visit that is {state} cannot {event}")]
    NotAllowed {
        state: VisitState,
        event: &'static str,
    },
    #[error("{0} is not one of the proposed dates")]
    NotProposed(NaiveDate),
    #[error("the visit on {0} has not taken place yet")]
    NotYetHappened(NaiveDate),
}

/// "1 meeloopdag per maand", "3 visits a month".
pub(crate) fn per_month(capacity: i32, language: Language) -> String {
    match (language, capacity) {
        (Language::Nl, 1) => "1 meeloopdag per maand".into(),
        (Language::Nl, n) => format!("{n} meeloopdagen per maand"),
        (Language::En, 1) => "1 visit a month".into(),
        (Language::En, n) => format!("{n} visits a month"),
    }
}

/// The facts a transition needs besides the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub state: VisitState,
    pub proposed_dates: Vec<NaiveDate>,
    pub date: Option<NaiveDate>,
}

/// The state after `event`, or why it cannot happen.
pub fn transition(visit: &Visit, event: VisitEvent) -> Result<VisitState, TransitionError> {
    use VisitEvent as E;
    use VisitState as S;
    let not_allowed = || TransitionError::NotAllowed {
        state: visit.state,
        event: event.name(),
    };
    match (visit.state, event) {
        (S::Requested, E::Accept(date)) => {
            if visit.proposed_dates.contains(&date) {
                Ok(S::Accepted)
            } else {
                Err(TransitionError::NotProposed(date))
            }
        }
        (S::Requested, E::Decline) => Ok(S::Declined),
        (S::Requested, E::Expire) => Ok(S::Expired),
        (S::Requested | S::Accepted, E::Cancel) => Ok(S::Cancelled),
        (S::Requested, E::Close) => Ok(S::Cancelled),
        (S::Accepted, E::Complete { today }) => match visit.date {
            Some(date) if today > date => Ok(S::Completed),
            Some(date) => Err(TransitionError::NotYetHappened(date)),
            None => Err(not_allowed()),
        },
        _ => Err(not_allowed()),
    }
}

/// Why Meeloop closed a request itself (the visit is then `cancelled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Closure {
    /// The invitation could not be delivered to the host's contact address.
    Undeliverable,
    /// None of the proposed days can be booked any more.
    NoDaysLeft,
}

impl Closure {
    pub const ALL: [Closure; 2] = [Closure::Undeliverable, Closure::NoDaysLeft];

    pub fn as_str(self) -> &'static str {
        match self {
            Closure::Undeliverable => "invitation_undeliverable",
            Closure::NoDaysLeft => "no_days_left",
        }
    }
}

impl Closure {
    /// What happened, for either side: "Gesloten door Meeloop: …".
    pub fn message(self, host: &str, language: Language) -> String {
        match (self, language) {
            (Closure::Undeliverable, Language::Nl) => {
                format!("Gesloten door Meeloop: de uitnodiging kon niet worden bezorgd bij {host}.")
            }
            (Closure::Undeliverable, Language::En) => {
                format!("Closed by Meeloop: the invitation could not be delivered to {host}.")
            }
            (Closure::NoDaysLeft, Language::Nl) => {
                "Gesloten door Meeloop: geen van de voorgestelde dagen is nog vrij.".into()
            }
            (Closure::NoDaysLeft, Language::En) => {
                "Closed by Meeloop: none of the proposed days is free any more.".into()
            }
        }
    }
}

impl FromStr for Closure {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Closure::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Invalid::new(format!("unknown closure '{s}'")))
    }
}

/// What the calendars say about one proposed day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayFacts {
    /// The host has another visit that day (as host or as visitor).
    pub host_busy: bool,
    /// So has the requester.
    pub requester_busy: bool,
    /// Visits the host hosts in that day's month.
    pub hosted_that_month: i64,
}

/// What keeps a proposed day from being booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obstacle {
    /// Today or earlier: a host cannot accept a day that has begun.
    Passed,
    HostBusy,
    RequesterBusy,
    /// The host's visits that month reached its capacity.
    HostFull {
        capacity: i32,
    },
}

/// Whether `date` can still be booked, and if not, the first reason why
/// (the order the host's answer is refused in).
pub fn obstacle(
    date: NaiveDate,
    today: NaiveDate,
    capacity: i32,
    facts: DayFacts,
) -> Option<Obstacle> {
    if date <= today {
        Some(Obstacle::Passed)
    } else if facts.host_busy {
        Some(Obstacle::HostBusy)
    } else if facts.requester_busy {
        Some(Obstacle::RequesterBusy)
    } else if facts.hosted_that_month >= i64::from(capacity) {
        Some(Obstacle::HostFull { capacity })
    } else {
        None
    }
}

impl Obstacle {
    /// The refusal a host gets who picks this day.
    pub fn refusal(self, date: NaiveDate, host: &str, requester: &str) -> VisitRefusal {
        match self {
            Obstacle::Passed => VisitRefusal::DayPassed { date },
            Obstacle::HostBusy => VisitRefusal::DayTaken {
                who: Some(host.to_string()),
                date,
            },
            Obstacle::RequesterBusy => VisitRefusal::DayTaken {
                who: Some(requester.to_string()),
                date,
            },
            Obstacle::HostFull { capacity } => VisitRefusal::MonthFull {
                host: host.to_string(),
                date,
                capacity,
            },
        }
    }

    /// Why the day is gone, as the requester is told: "dinsdag 2 maart
    /// 2027: Veere heeft die dag al een meeloopdag".
    pub fn to_requester(self, date: NaiveDate, host: &str, language: Language) -> String {
        let day = super::calendar::long_date(date, language);
        let nl = language == Language::Nl;
        let why = match (self, nl) {
            (Obstacle::Passed, true) => "die dag is voorbij".to_string(),
            (Obstacle::Passed, false) => "that day has passed".to_string(),
            (Obstacle::HostBusy, true) => format!("{host} heeft die dag al een meeloopdag"),
            (Obstacle::HostBusy, false) => format!("{host} already has a visit that day"),
            (Obstacle::RequesterBusy, true) => {
                "uw organisatie heeft die dag al een meeloopdag".into()
            }
            (Obstacle::RequesterBusy, false) => {
                "your organisation already has a visit that day".into()
            }
            (Obstacle::HostFull { capacity: 0 }, true) => {
                format!("{host} ontvangt op dit moment geen bezoek")
            }
            (Obstacle::HostFull { capacity: 0 }, false) => {
                format!("{host} hosts no visits at the moment")
            }
            (Obstacle::HostFull { capacity }, true) => format!(
                "{host} zit in {} vol ({})",
                super::calendar::month_name(date, language),
                per_month(capacity, language)
            ),
            (Obstacle::HostFull { capacity }, false) => format!(
                "{host} is fully booked in {} ({})",
                super::calendar::month_name(date, language),
                per_month(capacity, language)
            ),
        };
        format!("{day}: {why}")
    }
}

/// Every booked day at once (accepted and held visits), for checking many
/// requests without a query each: the scheduler's view.
#[derive(Debug, Clone, Default)]
pub struct Bookings {
    busy: HashSet<(i64, NaiveDate)>,
    hosted: HashMap<(i64, i32, u32), i64>,
}

impl Bookings {
    /// From (host, requester, day) of each booked visit.
    pub fn new(booked: impl IntoIterator<Item = (i64, i64, NaiveDate)>) -> Self {
        let mut bookings = Bookings::default();
        for (host, requester, date) in booked {
            bookings.busy.insert((host, date));
            bookings.busy.insert((requester, date));
            *bookings
                .hosted
                .entry((host, date.year(), date.month()))
                .or_default() += 1;
        }
        bookings
    }

    pub fn facts(&self, host: i64, requester: i64, date: NaiveDate) -> DayFacts {
        DayFacts {
            host_busy: self.busy.contains(&(host, date)),
            requester_busy: self.busy.contains(&(requester, date)),
            hosted_that_month: self
                .hosted
                .get(&(host, date.year(), date.month()))
                .copied()
                .unwrap_or(0),
        }
    }

    /// Whether any of `proposed` can still be booked.
    pub fn any_open(
        &self,
        host: i64,
        requester: i64,
        capacity: i32,
        proposed: &[NaiveDate],
        today: NaiveDate,
    ) -> bool {
        proposed
            .iter()
            .any(|&d| obstacle(d, today, capacity, self.facts(host, requester, d)).is_none())
    }
}

/// The scheduler's clock for one visit (docs/visits.md, "Scheduler").
pub mod schedule {
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
        Close(super::Closure),
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
        pub state: super::VisitState,
        pub requested_at: NaiveDateTime,
        pub expires_at: NaiveDateTime,
        pub nudged: bool,
        pub date: Option<NaiveDate>,
        pub reminded: bool,
        pub completed_at: Option<NaiveDateTime>,
        pub lessons_reminded: bool,
        pub followed_up: bool,
        /// Why a request can no longer be answered, if it cannot.
        pub stuck: Option<super::Closure>,
    }

    /// The job due now, if any. An undeliverable invitation beats expiry
    /// (the host never had a chance); expiry beats days that are gone, and
    /// those beat the nudge (a host is never nudged about a request it
    /// cannot accept); completion beats a reminder that was never sent (a
    /// scheduler down for days does not remind after the fact).
    pub fn next_job(t: &Timing, now: NaiveDateTime, today: NaiveDate) -> Option<Job> {
        use super::Closure;
        use super::VisitState as S;
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
            (S::Accepted, Some(date)) if !t.reminded && reminder_due(date, today) => {
                Some(Job::Remind)
            }
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
}

/// Timing rules for visits (`[visits]` settings).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitRules {
    /// Proposed dates lie at least this many days ahead.
    pub lead_days: i64,
    /// An invitation link (and the unanswered request) lives this long.
    pub invitation_days: i64,
    /// When a visit day starts and ends, Dutch local time (calendar files).
    pub day_start: chrono::NaiveTime,
    pub day_end: chrono::NaiveTime,
}

impl VisitRules {
    pub fn validate(&self) -> Result<(), String> {
        if !(0..=365).contains(&self.lead_days) {
            return Err("visits.lead_days must be 0 to 365".into());
        }
        if !(1..=90).contains(&self.invitation_days) {
            return Err("visits.invitation_days must be 1 to 90".into());
        }
        if self.day_start >= self.day_end {
            return Err("visits.day_start must be before visits.day_end".into());
        }
        Ok(())
    }
}

pub const MAX_PROPOSED_DATES: usize = 3;
pub const MAX_PARTICIPANTS: i32 = 5;
pub const MAX_GOAL_CHARS: usize = 2000;
pub const MAX_REASON_CHARS: usize = 1000;

/// Checks 1–3 distinct proposed dates: working days, at least `lead_days`
/// after `today`. The message names the first offending date and why, in
/// the caller's language.
pub fn check_proposed_dates(
    dates: &[NaiveDate],
    today: NaiveDate,
    lead_days: i64,
    language: Language,
) -> Result<Vec<NaiveDate>, Invalid> {
    let nl = language == Language::Nl;
    if dates.is_empty() || dates.len() > MAX_PROPOSED_DATES {
        return Err(Invalid::new(if nl {
            "stel 1 tot 3 datums voor"
        } else {
            "propose 1 to 3 dates"
        }));
    }
    let mut sorted = dates.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != dates.len() {
        return Err(Invalid::new(if nl {
            "dezelfde datum staat er twee keer in"
        } else {
            "the same date is proposed twice"
        }));
    }
    let earliest = today + chrono::Duration::days(lead_days);
    // Dates as people write them, the same way in both languages.
    let day = |d: NaiveDate| super::calendar::long_date(d, language);
    for &date in &sorted {
        if date < earliest {
            return Err(Invalid::new(if nl {
                format!(
                    "{} is te vroeg: kies een datum vanaf {} ({lead_days} dagen vooruit)",
                    day(date),
                    day(earliest)
                )
            } else {
                format!(
                    "{} is too soon: choose a date from {} on ({lead_days} days ahead)",
                    day(date),
                    day(earliest)
                )
            }));
        }
        if let Err(off) = working_day(date) {
            let why = match (off, nl) {
                (DayOff::Weekend, true) => "valt in het weekend".to_string(),
                (DayOff::Weekend, false) => "is in a weekend".to_string(),
                (DayOff::Holiday(h), true) => format!("is een feestdag ({})", h.names().0),
                (DayOff::Holiday(h), false) => format!("is a public holiday ({})", h.names().1),
            };
            return Err(Invalid::new(if nl {
                format!("{} {why}: kies een werkdag", day(date))
            } else {
                format!("{} {why}: choose a working day", day(date))
            }));
        }
    }
    Ok(sorted)
}

/// A non-empty goal of reasonable length, trimmed.
pub fn parse_goal(raw: &str) -> Result<String, Invalid> {
    let goal = raw.trim();
    if goal.chars().count() < 10 {
        return Err(Invalid::new(
            "goal: say in at least 10 characters what you want to learn",
        ));
    }
    if goal.chars().count() > MAX_GOAL_CHARS {
        return Err(Invalid::new(format!(
            "goal: at most {MAX_GOAL_CHARS} characters"
        )));
    }
    Ok(goal.to_string())
}

pub fn check_participants(n: i64) -> Result<i32, Invalid> {
    if (1..=MAX_PARTICIPANTS as i64).contains(&n) {
        Ok(n as i32)
    } else {
        Err(Invalid::new(format!(
            "participants: 1 to {MAX_PARTICIPANTS} people, not {n}"
        )))
    }
}

/// A request as typed in the web form, before any rule is applied.
#[derive(Debug, Clone, Default)]
pub struct RequestDraft {
    /// Up to three dates as typed (`2027-03-02`); empty ones are ignored.
    pub dates: Vec<String>,
    pub goal: String,
    pub participants: String,
}

/// The request rules with every problem reported at once, next to its
/// field (`dates`, `goal`, `participants`), in `language`.
pub fn check_request(
    draft: &RequestDraft,
    today: NaiveDate,
    lead_days: i64,
    language: Language,
) -> Result<(Vec<NaiveDate>, String, i32), Vec<FieldError>> {
    let nl = language == Language::Nl;
    let mut errors = Vec::new();
    let mut dates = Vec::new();
    for raw in draft
        .dates
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => dates.push(d),
            Err(_) => {
                errors.push(FieldError {
                    field: "dates",
                    message: if nl {
                        format!(
                            "'{raw}' is geen datum; gebruik de datumkiezer of schrijf 2027-03-02"
                        )
                    } else {
                        format!("'{raw}' is not a date; use the date picker or write 2027-03-02")
                    },
                });
                break;
            }
        }
    }
    if errors.is_empty() {
        if let Err(e) = check_proposed_dates(&dates, today, lead_days, language) {
            errors.push(FieldError {
                field: "dates",
                message: e.0,
            });
        }
    }
    let goal = draft.goal.trim();
    let goal_chars = goal.chars().count();
    if !(10..=MAX_GOAL_CHARS).contains(&goal_chars) {
        errors.push(FieldError {
            field: "goal",
            message: match (nl, goal_chars < 10) {
                (true, true) => "Schrijf in minstens 10 tekens wat jullie willen leren.".into(),
                (false, true) => "Say in at least 10 characters what you want to learn.".into(),
                (true, false) => format!("Hoogstens {MAX_GOAL_CHARS} tekens."),
                (false, false) => format!("At most {MAX_GOAL_CHARS} characters."),
            },
        });
    }
    let participants = match draft.participants.trim().parse::<i32>() {
        Ok(n) if (1..=MAX_PARTICIPANTS).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError {
                field: "participants",
                message: if nl {
                    format!("Een aantal van 1 tot {MAX_PARTICIPANTS} personen.")
                } else {
                    format!("A number from 1 to {MAX_PARTICIPANTS} people.")
                },
            });
            None
        }
    };
    match (errors.is_empty(), participants) {
        (true, Some(n)) => Ok((dates, goal.to_string(), n)),
        _ => Err(errors),
    }
}

/// An optional reason (decline, cancel), trimmed; empty means none.
pub fn parse_reason(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Invalid::new(format!(
            "reason: at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(Some(reason.to_string()))
}

/// Where a visit shows on a coordinator's dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// A request to us, waiting for our answer.
    Invitation,
    /// Our request, and how it went.
    Request,
    /// A booked day, ours or theirs.
    Upcoming,
    /// Held, and our side's lessons form is still empty.
    Form,
}

/// The section of a visit for one side, or none (a closed invitation to
/// us, a visit whose form we filled in).
pub fn section(state: VisitState, side: VisitRole, answered: bool) -> Option<Section> {
    match (state, side) {
        (VisitState::Requested, VisitRole::Host) => Some(Section::Invitation),
        (VisitState::Accepted, _) => Some(Section::Upcoming),
        (VisitState::Completed, _) if !answered => Some(Section::Form),
        (_, VisitRole::Requester) if state != VisitState::Completed => Some(Section::Request),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_nudge_comes_halfway_and_never_after_expiry() {
        use chrono::Duration;
        let asked = d(2027, 3, 1).and_hms_opt(10, 0, 0).unwrap();
        let expires = asked + Duration::days(14);
        assert!(!schedule::nudge_due(
            asked,
            expires,
            asked + Duration::days(6)
        ));
        assert!(schedule::nudge_due(
            asked,
            expires,
            asked + Duration::days(7)
        ));
        assert!(schedule::nudge_due(
            asked,
            expires,
            expires - Duration::seconds(1)
        ));
        assert!(!schedule::nudge_due(asked, expires, expires));
        assert!(!schedule::expired(expires, expires - Duration::seconds(1)));
        assert!(schedule::expired(expires, expires));
    }

    #[test]
    fn the_scheduler_picks_one_job_per_visit() {
        use chrono::Duration;
        use schedule::{next_job, Job, Timing};
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
        use schedule::{next_job, Job, Timing};
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
    fn a_day_is_open_unless_passed_taken_or_full() {
        let today = d(2027, 3, 1);
        let day = d(2027, 3, 9);
        let free = DayFacts::default();
        assert_eq!(obstacle(day, today, 2, free), None);
        assert_eq!(obstacle(today, today, 2, free), Some(Obstacle::Passed));
        let host_busy = DayFacts {
            host_busy: true,
            requester_busy: true,
            hosted_that_month: 9,
        };
        // The first reason, in the order the host's answer is refused in.
        assert_eq!(obstacle(day, today, 2, host_busy), Some(Obstacle::HostBusy));
        let requester_busy = DayFacts {
            requester_busy: true,
            ..free
        };
        assert_eq!(
            obstacle(day, today, 2, requester_busy),
            Some(Obstacle::RequesterBusy)
        );
        let full = DayFacts {
            hosted_that_month: 2,
            ..free
        };
        assert_eq!(
            obstacle(day, today, 2, full),
            Some(Obstacle::HostFull { capacity: 2 })
        );
        assert_eq!(obstacle(day, today, 3, full), None);
    }

    #[test]
    fn bookings_know_busy_days_and_full_months() {
        // Host 1 hosts 2 on 9 March; 3 visits 1 on 10 March.
        let bookings = Bookings::new([(1, 2, d(2027, 3, 9)), (1, 3, d(2027, 3, 10))]);
        let today = d(2027, 3, 1);
        let f = bookings.facts(1, 4, d(2027, 3, 9));
        assert!(f.host_busy && !f.requester_busy);
        assert_eq!(f.hosted_that_month, 2);
        // The visitor of that day is busy too, whoever hosts it.
        assert!(bookings.facts(5, 2, d(2027, 3, 9)).requester_busy);
        assert!(bookings.facts(2, 5, d(2027, 3, 9)).host_busy);
        assert_eq!(bookings.facts(1, 4, d(2027, 4, 9)).hosted_that_month, 0);
        // Capacity 2: March is full for host 1, April is not.
        assert!(!bookings.any_open(1, 4, 2, &[d(2027, 3, 11), d(2027, 3, 12)], today));
        assert!(bookings.any_open(1, 4, 2, &[d(2027, 3, 11), d(2027, 4, 1)], today));
        assert!(bookings.any_open(1, 4, 3, &[d(2027, 3, 11)], today));
        assert!(!bookings.any_open(1, 4, 3, &[d(2027, 3, 9), d(2027, 2, 26)], today));
    }

    #[test]
    fn the_requester_reads_why_each_day_is_gone() {
        let day = d(2027, 3, 9);
        assert_eq!(
            Obstacle::HostBusy.to_requester(day, "Veere", Language::Nl),
            "dinsdag 9 maart 2027: Veere heeft die dag al een meeloopdag"
        );
        assert_eq!(
            Obstacle::HostFull { capacity: 2 }.to_requester(day, "Veere", Language::En),
            "Tuesday 9 March 2027: Veere is fully booked in March 2027 (2 visits a month)"
        );
        assert_eq!(
            Obstacle::RequesterBusy.refusal(day, "Veere", "Zwolle"),
            VisitRefusal::DayTaken {
                who: Some("Zwolle".into()),
                date: day
            }
        );
    }

    #[test]
    fn the_reminder_comes_two_working_days_before() {
        // Tuesday 9 March 2027 → Friday 5 March; Monday 8 March → Thursday 4 March.
        assert_eq!(schedule::reminder_day(d(2027, 3, 9)), d(2027, 3, 5));
        assert_eq!(schedule::reminder_day(d(2027, 3, 8)), d(2027, 3, 4));
        // Tuesday after Easter 2027: Easter Monday 29 March is a holiday,
        // Good Friday 26 March is a working day, so the reminder goes on
        // Thursday 25 March.
        assert_eq!(schedule::reminder_day(d(2027, 3, 30)), d(2027, 3, 25));
        assert!(!schedule::reminder_due(d(2027, 3, 9), d(2027, 3, 4)));
        assert!(schedule::reminder_due(d(2027, 3, 9), d(2027, 3, 5)));
        assert!(schedule::reminder_due(d(2027, 3, 9), d(2027, 3, 8)));
        assert!(!schedule::reminder_due(d(2027, 3, 9), d(2027, 3, 9)));
    }

    /// Every state × every event, against the table in the module docs.
    #[test]
    fn the_whole_transition_table() {
        let proposed = d(2027, 3, 2);
        let events = [
            VisitEvent::Accept(proposed),
            VisitEvent::Decline,
            VisitEvent::Expire,
            VisitEvent::Cancel,
            VisitEvent::Complete {
                today: d(2027, 3, 3),
            },
        ];
        use VisitState as S;
        let expected: [(S, [Option<S>; 5]); 6] = [
            (
                S::Requested,
                [
                    Some(S::Accepted),
                    Some(S::Declined),
                    Some(S::Expired),
                    Some(S::Cancelled),
                    None,
                ],
            ),
            (
                S::Accepted,
                [None, None, None, Some(S::Cancelled), Some(S::Completed)],
            ),
            (S::Declined, [None; 5]),
            (S::Expired, [None; 5]),
            (S::Cancelled, [None; 5]),
            (S::Completed, [None; 5]),
        ];
        for (state, outcomes) in expected {
            let visit = Visit {
                state,
                proposed_dates: vec![proposed],
                date: (state == S::Accepted || state == S::Completed).then_some(proposed),
            };
            for (event, outcome) in events.iter().zip(outcomes) {
                let got = transition(&visit, *event);
                match outcome {
                    Some(next) => assert_eq!(got, Ok(next), "{state} + {event:?}"),
                    None => assert!(
                        matches!(got, Err(TransitionError::NotAllowed { .. })),
                        "{state} + {event:?}: {got:?}"
                    ),
                }
            }
            assert_eq!(state.is_final(), outcomes.iter().all(Option::is_none));
        }
    }

    #[test]
    fn accept_needs_a_proposed_date_and_complete_needs_the_day_past() {
        let visit = Visit {
            state: VisitState::Requested,
            proposed_dates: vec![d(2027, 3, 2), d(2027, 3, 4)],
            date: None,
        };
        assert_eq!(
            transition(&visit, VisitEvent::Accept(d(2027, 3, 3))),
            Err(TransitionError::NotProposed(d(2027, 3, 3)))
        );
        let accepted = Visit {
            state: VisitState::Accepted,
            date: Some(d(2027, 3, 4)),
            ..visit
        };
        for today in [d(2027, 3, 3), d(2027, 3, 4)] {
            assert_eq!(
                transition(&accepted, VisitEvent::Complete { today }),
                Err(TransitionError::NotYetHappened(d(2027, 3, 4)))
            );
        }
        assert_eq!(
            transition(
                &accepted,
                VisitEvent::Complete {
                    today: d(2027, 3, 5)
                }
            ),
            Ok(VisitState::Completed)
        );
    }

    #[test]
    fn proposed_dates_are_working_days_far_enough_ahead() {
        let today = d(2027, 4, 1);
        let ok = check_proposed_dates(&[d(2027, 4, 28), d(2027, 4, 26)], today, 7, Language::En);
        assert_eq!(ok, Ok(vec![d(2027, 4, 26), d(2027, 4, 28)]));
        let err =
            |dates: &[NaiveDate], lang| check_proposed_dates(dates, today, 7, lang).unwrap_err().0;
        // Dates written out the same human way in both languages.
        assert_eq!(
            err(&[d(2027, 4, 27)], Language::En),
            "Tuesday 27 April 2027 is a public holiday (King's Day): choose a working day"
        );
        assert_eq!(
            err(&[d(2027, 4, 27)], Language::Nl),
            "dinsdag 27 april 2027 is een feestdag (Koningsdag): kies een werkdag"
        );
        assert_eq!(
            err(&[d(2027, 4, 24)], Language::En),
            "Saturday 24 April 2027 is in a weekend: choose a working day"
        );
        assert_eq!(
            err(&[d(2027, 4, 24)], Language::Nl),
            "zaterdag 24 april 2027 valt in het weekend: kies een werkdag"
        );
        assert_eq!(
            err(&[d(2027, 4, 5)], Language::En),
            "Monday 5 April 2027 is too soon: choose a date from Thursday 8 April 2027 on (7 days ahead)"
        );
        assert!(err(&[], Language::En).contains("1 to 3"));
        assert!(err(&[d(2027, 4, 26); 2], Language::En).contains("twice"));
        assert!(err(
            &[
                d(2027, 4, 26),
                d(2027, 4, 28),
                d(2027, 4, 29),
                d(2027, 4, 30)
            ],
            Language::En
        )
        .contains("1 to 3"));
    }

    #[test]
    fn goal_participants_and_reasons() {
        assert!(parse_goal("  short ").is_err());
        assert_eq!(
            parse_goal("  How did you plan the migration?  ").unwrap(),
            "How did you plan the migration?"
        );
        assert!(parse_goal(&"x".repeat(MAX_GOAL_CHARS + 1)).is_err());
        assert_eq!(check_participants(1), Ok(1));
        assert_eq!(check_participants(5), Ok(5));
        assert!(check_participants(0).is_err() && check_participants(6).is_err());
        assert_eq!(parse_reason(Some("   ")), Ok(None));
        assert_eq!(parse_reason(Some(" busy ")), Ok(Some("busy".into())));
        assert!(parse_reason(Some(&"x".repeat(1001))).is_err());
    }

    #[test]
    fn dashboard_sections() {
        use VisitRole::{Host, Requester};
        use VisitState::*;
        assert_eq!(section(Requested, Host, false), Some(Section::Invitation));
        assert_eq!(section(Requested, Requester, false), Some(Section::Request));
        assert_eq!(section(Declined, Requester, false), Some(Section::Request));
        assert_eq!(section(Expired, Requester, false), Some(Section::Request));
        assert_eq!(section(Declined, Host, false), None);
        assert_eq!(section(Cancelled, Host, false), None);
        assert_eq!(section(Accepted, Host, false), Some(Section::Upcoming));
        assert_eq!(section(Accepted, Requester, false), Some(Section::Upcoming));
        assert_eq!(section(Completed, Host, false), Some(Section::Form));
        assert_eq!(section(Completed, Requester, true), None);
    }

    #[test]
    fn a_typed_request_reports_every_field_in_its_language() {
        let today = NaiveDate::from_ymd_opt(2027, 4, 1).unwrap();
        let draft = RequestDraft {
            dates: vec!["2027-04-27".into(), "".into(), "".into()],
            goal: "kort".into(),
            participants: "9".into(),
        };
        let errors = check_request(&draft, today, 5, Language::Nl).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["dates", "goal", "participants"]);
        assert!(
            errors[0].message.contains("Koningsdag"),
            "{}",
            errors[0].message
        );
        let errors = check_request(&draft, today, 5, Language::En).unwrap_err();
        assert!(
            errors[1].message.contains("at least 10"),
            "{}",
            errors[1].message
        );

        let bad = RequestDraft {
            dates: vec!["2 mei".into()],
            ..draft.clone()
        };
        let errors = check_request(&bad, today, 5, Language::Nl).unwrap_err();
        assert!(errors[0].message.contains("'2 mei' is geen datum"));

        let good = RequestDraft {
            dates: vec!["2027-04-28".into(), "".into()],
            goal: "Hoe migreren jullie de zaaksystemen?".into(),
            participants: " 2 ".into(),
        };
        let (dates, goal, n) = check_request(&good, today, 5, Language::Nl).unwrap();
        assert_eq!(dates, [NaiveDate::from_ymd_opt(2027, 4, 28).unwrap()]);
        assert_eq!(
            (goal.as_str(), n),
            ("Hoe migreren jullie de zaaksystemen?", 2)
        );
    }
}
