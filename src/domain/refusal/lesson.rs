//! Lessons forms, follow-ups and the single-use links in emails.

use super::{area, Explain, Kind};
use crate::domain::organisation::Language;
use crate::domain::visit::{VisitRole, VisitState};

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum LessonRefusal {
    /// Lessons are asked for after the visit has taken place.
    VisitNotHeld { state: VisitState },
    /// This side sent its lessons already.
    LessonsSent { side: VisitRole },
    /// The form opens the day after the visit.
    FormNotOpen,
    /// The three-month follow-up was answered already.
    FollowupAnswered,
}

area!(LessonRefusal);

impl Explain for LessonRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        Kind::Conflict
    }

    fn message(&self, language: Language) -> String {
        use LessonRefusal as R;
        let nl = language == Language::Nl;
        match self {
            R::VisitNotHeld { .. } if nl => {
                "de lessen worden gevraagd nadat de meeloopdag heeft plaatsgevonden".into()
            }
            R::VisitNotHeld { state } => format!(
                "the visit is {state}: lessons are asked for after the visit has taken place"
            ),
            R::LessonsSent { side } => match (side, nl) {
                (VisitRole::Host, true) => "de ontvangende organisatie heeft de lessen al ingevuld",
                (VisitRole::Requester, true) => {
                    "de bezoekende organisatie heeft de lessen al ingevuld"
                }
                (VisitRole::Host, false) => "the host has sent its lessons already",
                (VisitRole::Requester, false) => "the requester has sent its lessons already",
            }
            .into(),
            R::FormNotOpen if nl => "het lessenformulier opent de dag na de meeloopdag".into(),
            R::FormNotOpen => "the lessons form opens the day after the visit".into(),
            R::FollowupAnswered if nl => "deze vragen zijn al beantwoord".into(),
            R::FollowupAnswered => "these questions were answered already".into(),
        }
    }
}

impl LessonRefusal {
    pub(super) fn examples() -> Vec<Self> {
        vec![
            LessonRefusal::VisitNotHeld {
                state: VisitState::Accepted,
            },
            LessonRefusal::LessonsSent {
                side: VisitRole::Host,
            },
            LessonRefusal::FormNotOpen,
            LessonRefusal::FollowupAnswered,
        ]
    }
}

/// An email link that cannot be used (any purpose).
#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum LinkRefusal {
    /// Unknown token: never issued, or mistyped.
    InvalidLink,
    LinkExpired,
    /// The link did its work already.
    LinkUsed,
    /// The form behind the link was sent already.
    FormSent,
}

area!(LinkRefusal);

impl Explain for LinkRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        match self {
            LinkRefusal::InvalidLink => Kind::NotFound,
            _ => Kind::Conflict,
        }
    }

    fn message(&self, language: Language) -> String {
        use LinkRefusal as R;
        match (self, language) {
            (R::InvalidLink, Language::Nl) => "deze link is niet geldig",
            (R::InvalidLink, Language::En) => "this link is not valid",
            (R::LinkExpired, Language::Nl) => "deze link is verlopen",
            (R::LinkExpired, Language::En) => "this link has expired",
            (R::LinkUsed, Language::Nl) => "deze link werkt niet meer",
            (R::LinkUsed, Language::En) => "this link no longer works",
            (R::FormSent, Language::Nl) => "dit formulier is al verstuurd",
            (R::FormSent, Language::En) => "this form was sent already",
        }
        .into()
    }
}

impl LinkRefusal {
    pub(super) fn examples() -> Vec<Self> {
        use LinkRefusal as R;
        vec![R::InvalidLink, R::LinkExpired, R::LinkUsed, R::FormSent]
    }
}
