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

use chrono::NaiveDate;

use super::organisation::Language;

/// Database id of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitId(pub i64);

impl From<i64> for VisitId {
    fn from(n: i64) -> Self {
        VisitId(n)
    }
}

impl std::str::FromStr for VisitId {
    type Err = super::Invalid;
    fn from_str(s: &str) -> Result<Self, super::Invalid> {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(VisitId)
            .ok_or_else(|| {
                super::Invalid::new(format!("'{s}' is not a visit id (a positive integer)"))
            })
    }
}

impl std::fmt::Display for VisitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

super::named_enum! {
    pub enum VisitState ("visit state") {
        Requested = "requested",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

impl VisitState {
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

super::named_enum! {
    /// Which side of a visit an organisation is on.
    pub enum VisitRole ("role") {
        Requester = "requester",
        Host = "host",
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

super::named_enum! {
    /// What an emailed single-use link is for.
    pub enum LinkPurpose ("link purpose") {
        /// The host's answer to a request.
        Invitation = "invitation",
        /// One side's lessons form.
        Lessons = "lessons",
        /// The requester's answer, three months on.
        FollowUp = "followup",
    }
}

super::named_enum! {
    /// Why Meeloop closed a request itself (the visit is then `cancelled`).
    pub enum Closure ("closure") {
        /// The invitation could not be delivered to the host's contact address.
        Undeliverable = "invitation_undeliverable",
        /// None of the proposed days can be booked any more.
        NoDaysLeft = "no_days_left",
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

mod days;
mod request;

pub use days::{obstacle, Booked, Bookings, DayFacts, Obstacle};
pub use request::*;

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
    use crate::domain::calendar::d;

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
}
