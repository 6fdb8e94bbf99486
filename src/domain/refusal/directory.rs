//! Organisations, topics and expertise.

use super::{area, Explain, Kind};
use crate::domain::organisation::Language;

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum DirectoryRefusal {
    UnknownOrganisation {
        id: i64,
    },
    UnknownOrganisationCode {
        code: String,
    },
    /// A name typed in a form that matches no organisation.
    UnknownOrganisationName {
        name: String,
    },
    UnknownTopic {
        slug: String,
    },
    /// The organisation recorded nothing on this topic.
    NoExpertise {
        organisation: i64,
        topic: String,
    },
    OrganisationCodeInUse {
        code: String,
    },
    TopicInUse {
        slug: String,
    },
    /// The caller's own organisation was deactivated.
    OrganisationInactive,
    /// The account belongs to no organisation, and this needs one.
    NoOrganisation,
    /// The organisation asking for matches left the directory meanwhile.
    RequesterNotListed,
    /// A coordinator asked on behalf of another organisation.
    OwnOrganisationOnly,
    /// An admin must say for whom.
    NameTheOrganisation,
    /// The organisation went into another (a municipal merger).
    Merged {
        id: i64,
        into_id: i64,
        into_name: String,
    },
    /// A merger needs two different, active organisations.
    CannotMerge {
        why: MergeProblem,
    },
}

/// Why two organisations cannot be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeProblem {
    Same,
    AlreadyMerged,
    TargetInactive,
    /// Both have a visit booked on this day still to come.
    SameDay(chrono::NaiveDate),
}

area!(DirectoryRefusal);

impl Explain for DirectoryRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        use DirectoryRefusal as R;
        match self {
            R::UnknownOrganisation { .. }
            | R::UnknownOrganisationCode { .. }
            | R::UnknownOrganisationName { .. }
            | R::UnknownTopic { .. }
            | R::NoExpertise { .. }
            | R::RequesterNotListed
            | R::Merged { .. } => Kind::NotFound,
            R::OrganisationCodeInUse { .. } | R::TopicInUse { .. } | R::CannotMerge { .. } => {
                Kind::Conflict
            }
            R::OrganisationInactive | R::NoOrganisation | R::OwnOrganisationOnly => Kind::Forbidden,
            R::NameTheOrganisation => Kind::Invalid,
        }
    }

    fn message(&self, language: Language) -> String {
        use DirectoryRefusal as R;
        let nl = language == Language::Nl;
        match self {
            R::UnknownOrganisation { id } if nl => format!("organisatie {id} bestaat niet"),
            R::UnknownOrganisation { id } => format!("organisation {id} does not exist"),
            R::UnknownOrganisationCode { code } if nl => {
                format!("geen organisatie heeft code '{code}'")
            }
            R::UnknownOrganisationCode { code } => format!("no organisation has code '{code}'"),
            R::UnknownOrganisationName { name } if nl => format!(
                "geen organisatie gevonden die '{}' heet; kies een naam uit de lijst",
                name.trim()
            ),
            R::UnknownOrganisationName { name } => format!(
                "no organisation called '{}'; pick a name from the list",
                name.trim()
            ),
            R::UnknownTopic { slug } if nl => {
                format!("onbekend onderwerp '{slug}'; kies er een uit de lijst met onderwerpen")
            }
            R::UnknownTopic { slug } => {
                format!("unknown topic '{slug}'; pick one from the list of topics")
            }
            R::NoExpertise {
                organisation,
                topic,
            } if nl => format!("organisatie {organisation} heeft geen expertise op '{topic}'"),
            R::NoExpertise {
                organisation,
                topic,
            } => format!("organisation {organisation} has no expertise on '{topic}'"),
            R::OrganisationCodeInUse { code } if nl => {
                format!("er bestaat al een organisatie met code {code}")
            }
            R::OrganisationCodeInUse { code } => {
                format!("an organisation with code {code} already exists")
            }
            R::TopicInUse { slug } if nl => format!("onderwerp '{slug}' bestaat al"),
            R::TopicInUse { slug } => format!("a topic '{slug}' already exists"),
            R::OrganisationInactive if nl => "je organisatie is niet actief".into(),
            R::OrganisationInactive => "your organisation is not active".into(),
            R::NoOrganisation if nl => "dit account hoort bij geen organisatie".into(),
            R::NoOrganisation => "this account belongs to no organisation".into(),
            R::RequesterNotListed if nl => {
                "de vragende organisatie staat niet (meer) in de lijst".into()
            }
            R::RequesterNotListed => {
                "the requesting organisation is not in the directory (deactivated?)".into()
            }
            R::OwnOrganisationOnly if nl => {
                "coördinatoren zoeken collega's voor hun eigen organisatie; laat 'organisation' weg"
                    .into()
            }
            R::OwnOrganisationOnly => {
                "coordinators find peers for their own organisation; leave out 'organisation'"
                    .into()
            }
            R::NameTheOrganisation if nl => {
                "beheerders zeggen voor wie: voeg organisation=ID toe".into()
            }
            R::NameTheOrganisation => "admins say whom to match for: add organisation=ID".into(),
            R::Merged { id, into_id, into_name } if nl => format!(
                "organisatie {id} is opgegaan in {into_name}; die staat onder /organisations/{into_id}"
            ),
            R::Merged { id, into_id, into_name } => format!(
                "organisation {id} merged into {into_name}; find it at /organisations/{into_id}"
            ),
            R::CannotMerge { why } => match (why, nl) {
                (MergeProblem::Same, true) => "een organisatie gaat niet in zichzelf op".into(),
                (MergeProblem::Same, false) => "an organisation cannot merge into itself".into(),
                (MergeProblem::AlreadyMerged, true) => "deze organisatie is al samengevoegd".into(),
                (MergeProblem::AlreadyMerged, false) => "this organisation was merged already".into(),
                (MergeProblem::TargetInactive, true) => {
                    "de organisatie waarin ze opgaat is niet actief; activeer haar eerst".into()
                }
                (MergeProblem::TargetInactive, false) => {
                    "the organisation to merge into is not active; activate it first".into()
                }
                (MergeProblem::SameDay(day), true) => format!(
                    "beide hebben op {day} een meeloopdag gepland; verzet of annuleer er eerst een"
                ),
                (MergeProblem::SameDay(day), false) => format!(
                    "both have a visit booked on {day}; move or cancel one first"
                ),
            },
        }
    }
}

impl DirectoryRefusal {
    pub(super) fn examples() -> Vec<Self> {
        use DirectoryRefusal as R;
        vec![
            R::UnknownOrganisation { id: 7 },
            R::Merged {
                id: 7,
                into_id: 8,
                into_name: "Súdwest-Fryslân".into(),
            },
            R::CannotMerge {
                why: MergeProblem::SameDay(chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()),
            },
            R::UnknownOrganisationCode {
                code: "GM9999".into(),
            },
            R::UnknownOrganisationName {
                name: "Atlantis".into(),
            },
            R::UnknownTopic {
                slug: "astrology".into(),
            },
            R::NoExpertise {
                organisation: 7,
                topic: "cloud-migration".into(),
            },
            R::OrganisationCodeInUse {
                code: "GM0363".into(),
            },
            R::TopicInUse {
                slug: "cloud-migration".into(),
            },
            R::OrganisationInactive,
            R::NoOrganisation,
            R::RequesterNotListed,
            R::OwnOrganisationOnly,
            R::NameTheOrganisation,
        ]
    }
}
