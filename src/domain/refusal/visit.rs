//! Requests, answers, cancellations and calendars of visits.

use chrono::NaiveDate;

use super::{area, Explain, Kind, Named};
use crate::domain::calendar::{long_date, month_name};
use crate::domain::organisation::Language;
use crate::domain::visit::{per_month, Closure, Obstacle, TransitionError, VisitId, VisitState};

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum VisitRefusal {
    /// No such visit, or the caller may not see it.
    UnknownVisit {
        id: VisitId,
    },
    OwnOrganisation,
    /// The host does not offer visits on this topic.
    NotHosting {
        host: String,
        topic: Named,
    },
    /// The host's monthly capacity is 0.
    HostsNone {
        host: String,
    },
    /// The host's stored contact address cannot receive the invitation.
    HostUnreachable {
        host: String,
    },
    /// The requester has an open request to this host on this topic.
    AlreadyAsked {
        host: String,
        topic: Named,
        visit: VisitId,
    },
    /// Requests come from coordinators, for their own organisation.
    CoordinatorsRequest,
    /// Only the host's coordinators answer.
    HostAnswers,
    /// Only the two organisations' coordinators cancel.
    PartiesCancel,
    /// Only the two organisations' coordinators write its lessons.
    PartiesWriteLessons,
    /// Coordinators list their own organisation's visits.
    OwnVisitsOnly,
    /// The dashboard belongs to an organisation's coordinators.
    CoordinatorsDashboard,
    /// An admin filtering by role must name the organisation.
    RoleNeedsOrganisation,
    /// The day is today or past.
    DayPassed {
        date: NaiveDate,
    },
    /// `who` (or, when a unique index noticed, one of the two) has
    /// another visit that day.
    DayTaken {
        who: Option<String>,
        date: NaiveDate,
    },
    /// The host's visits that month reached its capacity.
    MonthFull {
        host: String,
        date: NaiveDate,
        capacity: i32,
    },
    /// Someone answered first (or the link was used).
    AlreadyAnswered,
    /// The visit's state does not allow this.
    NotAllowedNow {
        state: VisitState,
        event: &'static str,
    },
    NotProposed {
        date: NaiveDate,
    },
    NotHeldYet {
        date: NaiveDate,
    },
    /// Meeloop closed the request itself.
    ClosedByMeeloop {
        host: String,
        closure: Closure,
    },
    /// A concurrent change won; trying again reads the new state.
    ChangedMeanwhile {
        id: VisitId,
    },
    /// Only accepted and held visits are in calendars.
    NotInCalendar {
        state: VisitState,
    },
}

area!(VisitRefusal);

impl VisitRefusal {
    /// The refusal a host gets who picks a day with this obstacle.
    pub fn day(obstacle: Obstacle, date: NaiveDate, host: &str, requester: &str) -> Self {
        match obstacle {
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
}

impl From<TransitionError> for VisitRefusal {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::NotAllowed { state, event } => {
                VisitRefusal::NotAllowedNow { state, event }
            }
            TransitionError::NotProposed(date) => VisitRefusal::NotProposed { date },
            TransitionError::NotYetHappened(date) => VisitRefusal::NotHeldYet { date },
        }
    }
}

impl Explain for VisitRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        use VisitRefusal as R;
        match self {
            R::UnknownVisit { .. } => Kind::NotFound,
            R::OwnOrganisation | R::RoleNeedsOrganisation | R::NotProposed { .. } => Kind::Invalid,
            R::CoordinatorsRequest
            | R::HostAnswers
            | R::PartiesCancel
            | R::PartiesWriteLessons
            | R::OwnVisitsOnly
            | R::CoordinatorsDashboard => Kind::Forbidden,
            R::NotHosting { .. }
            | R::HostsNone { .. }
            | R::HostUnreachable { .. }
            | R::AlreadyAsked { .. }
            | R::DayPassed { .. }
            | R::DayTaken { .. }
            | R::MonthFull { .. }
            | R::AlreadyAnswered
            | R::NotAllowedNow { .. }
            | R::NotHeldYet { .. }
            | R::ClosedByMeeloop { .. }
            | R::ChangedMeanwhile { .. }
            | R::NotInCalendar { .. } => Kind::Conflict,
        }
    }

    fn message(&self, language: Language) -> String {
        use VisitRefusal as R;
        let day = |d: &NaiveDate| long_date(*d, language);
        let nl = language == Language::Nl;
        match self {
            R::UnknownVisit { id } if nl => format!("meeloopdag {id} bestaat niet"),
            R::UnknownVisit { id } => format!("no visit {id}"),
            R::OwnOrganisation if nl => "je kunt niet meelopen bij je eigen organisatie".into(),
            R::OwnOrganisation => "you cannot visit your own organisation".into(),
            R::NotHosting { host, topic } if nl => {
                format!("{host} ontvangt geen bezoek over {}", topic.nl)
            }
            R::NotHosting { host, topic } => {
                format!("{host} does not host visits on {}", topic.en)
            }
            R::HostsNone { host } if nl => {
                format!("{host} ontvangt op dit moment geen bezoek (capaciteit 0)")
            }
            R::HostsNone { host } => format!("{host} hosts no visits at the moment (capacity 0)"),
            R::HostUnreachable { host } if nl => format!(
                "{host} heeft geen bruikbaar contactadres voor uitnodigingen; vraag een beheerder er een toe te voegen"
            ),
            R::HostUnreachable { host } => format!(
                "{host} has no contact address that can receive invitations; ask an admin to add one"
            ),
            R::AlreadyAsked { host, topic, visit } if nl => format!(
                "je hebt {host} al gevraagd over {} (bezoek {visit}); wacht op het antwoord of trek het verzoek in",
                topic.nl
            ),
            R::AlreadyAsked { host, topic, visit } => format!(
                "you already asked {host} about {} (visit {visit}); wait for the answer or cancel it",
                topic.en
            ),
            R::CoordinatorsRequest if nl => {
                "alleen een coördinator vraagt een meeloopdag aan, voor de eigen organisatie".into()
            }
            R::CoordinatorsRequest => {
                "only a coordinator requests visits, for their own organisation".into()
            }
            R::HostAnswers if nl => {
                "alleen een coördinator van de ontvangende organisatie beantwoordt een verzoek".into()
            }
            R::HostAnswers => {
                "only a coordinator of the host organisation answers a request".into()
            }
            R::PartiesCancel if nl => {
                "alleen coördinatoren van de twee organisaties annuleren een meeloopdag".into()
            }
            R::PartiesCancel => "only coordinators of the two organisations cancel a visit".into(),
            R::PartiesWriteLessons if nl => {
                "alleen coördinatoren van de twee organisaties vullen de lessen van een meeloopdag in"
                    .into()
            }
            R::PartiesWriteLessons => {
                "only coordinators of the two organisations fill in a visit's lessons".into()
            }
            R::OwnVisitsOnly if nl => {
                "coördinatoren zien de meeloopdagen van hun eigen organisatie".into()
            }
            R::OwnVisitsOnly => "coordinators list the visits of their own organisation".into(),
            R::CoordinatorsDashboard if nl => {
                "het overzicht is voor coördinatoren van een organisatie".into()
            }
            R::CoordinatorsDashboard => {
                "the dashboard is for coordinators of an organisation".into()
            }
            R::RoleNeedsOrganisation if nl => {
                "role: noem een organisatie om op haar rol te filteren".into()
            }
            R::RoleNeedsOrganisation => "role: name an organisation to filter by its role".into(),
            R::DayPassed { date } if nl => format!(
                "{} is al voorbij; de aanvrager moet nieuwe dagen voorstellen",
                day(date)
            ),
            R::DayPassed { date } => format!(
                "{} has passed; the requester should propose new dates",
                day(date)
            ),
            R::DayTaken { who, date } if nl => format!(
                "{} heeft op {} al een meeloopdag; kies een andere voorgestelde dag",
                who.as_deref().unwrap_or("een van de organisaties"),
                day(date)
            ),
            R::DayTaken { who, date } => format!(
                "{} already has a visit on {}; pick another of the proposed dates",
                who.as_deref().unwrap_or("one of the organisations"),
                day(date)
            ),
            R::MonthFull {
                host,
                date,
                capacity,
            } if nl => format!(
                "{host} zit in {} vol ({}); kies een dag in een andere maand",
                month_name(*date, language),
                per_month(*capacity, language)
            ),
            R::MonthFull {
                host,
                date,
                capacity,
            } => format!(
                "{host} is fully booked in {} ({}); pick a date in another month",
                month_name(*date, language),
                per_month(*capacity, language)
            ),
            R::AlreadyAnswered if nl => "deze uitnodiging is al beantwoord".into(),
            R::AlreadyAnswered => "this invitation has been answered already".into(),
            R::NotAllowedNow { state, event } if nl => {
                let already = match state {
                    VisitState::Accepted | VisitState::Completed => "al ",
                    _ => "",
                };
                let state = format!("{already}{}", state_nl(*state));
                let event = match *event {
                    "accept" => "meer geaccepteerd worden",
                    "decline" => "meer afgewezen worden",
                    "cancel" | "close" => "meer geannuleerd worden",
                    "expire" => "meer verlopen",
                    _ => "als gehouden gelden",
                };
                format!("deze meeloopdag is {state} en kan niet {event}")
            }
            R::NotAllowedNow { state, event } => format!("a visit that is {state} cannot {event}"),
            R::NotProposed { date } if nl => {
                format!("{} is geen van de voorgestelde dagen", day(date))
            }
            R::NotProposed { date } => {
                format!("{} is not one of the proposed dates", day(date))
            }
            R::NotHeldYet { date } if nl => {
                format!("de meeloopdag van {} heeft nog niet plaatsgevonden", day(date))
            }
            R::NotHeldYet { date } => {
                format!("the visit on {} has not taken place yet", day(date))
            }
            R::ClosedByMeeloop { host, closure } => closure.message(host, language),
            R::ChangedMeanwhile { id } if nl => {
                format!("meeloopdag {id} is intussen gewijzigd; probeer het opnieuw")
            }
            R::ChangedMeanwhile { id } => format!("visit {id} changed meanwhile; try again"),
            R::NotInCalendar { state } if nl => format!(
                "deze meeloopdag is {}: alleen geaccepteerde of gehouden meeloopdagen staan in agenda's",
                state_nl(*state)
            ),
            R::NotInCalendar { state } => format!(
                "this visit is {state}: only an accepted or held visit is in calendars"
            ),
        }
    }
}

/// A state as a Dutch sentence ends: "deze meeloopdag is …".
fn state_nl(state: VisitState) -> &'static str {
    match state {
        VisitState::Requested => "nog niet beantwoord",
        VisitState::Accepted => "geaccepteerd",
        VisitState::Declined => "afgewezen",
        VisitState::Expired => "verlopen",
        VisitState::Cancelled => "geannuleerd",
        VisitState::Completed => "gehouden",
    }
}

impl VisitRefusal {
    pub(super) fn examples() -> Vec<Self> {
        use VisitRefusal as R;
        let date = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap_or_default();
        let topic = Named {
            nl: "Cloudmigratie".into(),
            en: "Cloud migration".into(),
        };
        let host = || "Veere".to_string();
        vec![
            R::UnknownVisit { id: VisitId(7) },
            R::OwnOrganisation,
            R::NotHosting {
                host: host(),
                topic: topic.clone(),
            },
            R::HostsNone { host: host() },
            R::HostUnreachable { host: host() },
            R::AlreadyAsked {
                host: host(),
                topic,
                visit: VisitId(7),
            },
            R::CoordinatorsRequest,
            R::HostAnswers,
            R::PartiesCancel,
            R::PartiesWriteLessons,
            R::OwnVisitsOnly,
            R::CoordinatorsDashboard,
            R::RoleNeedsOrganisation,
            R::DayPassed { date },
            R::DayTaken {
                who: Some(host()),
                date,
            },
            R::MonthFull {
                host: host(),
                date,
                capacity: 2,
            },
            R::AlreadyAnswered,
            R::NotAllowedNow {
                state: VisitState::Accepted,
                event: "accept",
            },
            R::NotProposed { date },
            R::NotHeldYet { date },
            R::ClosedByMeeloop {
                host: host(),
                closure: Closure::NoDaysLeft,
            },
            R::ChangedMeanwhile { id: VisitId(7) },
            R::NotInCalendar {
                state: VisitState::Declined,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_refusals_and_state_refusals_speak_both_languages() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap();
        let full = VisitRefusal::MonthFull {
            host: "Zwolle".into(),
            date: d,
            capacity: 2,
        };
        assert_eq!(
            full.message(Language::Nl),
            "Zwolle zit in maart 2027 vol (2 meeloopdagen per maand); kies een dag in een andere maand"
        );
        assert!(full
            .message(Language::En)
            .contains("fully booked in March 2027"));
        let taken = VisitRefusal::DayTaken {
            who: Some("Zwolle".into()),
            date: d,
        };
        assert!(taken
            .message(Language::Nl)
            .contains("op dinsdag 2 maart 2027 al een meeloopdag"));
        let twice = VisitRefusal::from(TransitionError::NotAllowed {
            state: VisitState::Accepted,
            event: "accept",
        });
        assert_eq!(
            twice.message(Language::Nl),
            "deze meeloopdag is al geaccepteerd en kan niet meer geaccepteerd worden"
        );
        assert_eq!(
            twice.message(Language::En),
            "a visit that is accepted cannot accept"
        );
        assert_eq!(twice.code(), "not_allowed_now");
        assert_eq!(
            VisitRefusal::day(Obstacle::RequesterBusy, d, "Veere", "Zwolle"),
            VisitRefusal::DayTaken {
                who: Some("Zwolle".into()),
                date: d
            }
        );
    }
}
