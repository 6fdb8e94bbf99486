//! Lessons learned: the form both sides fill in after a visit, its rules,
//! and when its emails go (docs/lessons.md).

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::organisation::{Language, OrganisationKind};
use super::visit::VisitRole;

mod reputation;
pub use reputation::{reputation, Rated, Reputation, ReputationRules};

/// How long a form link works after the visit is completed.
pub const FORM_DAYS: i64 = 60;
/// One reminder, this many days after the forms went out, to the sides that
/// have not answered.
pub const REMINDER_DAYS: i64 = 7;

pub const MAX_TEXT_CHARS: usize = 4000;
pub const MIN_TEXT_CHARS: usize = 10;
pub const MAX_HOURS_SAVED: i64 = 10_000;

/// Database id of a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LessonId(pub i64);

impl From<i64> for LessonId {
    fn from(n: i64) -> Self {
        LessonId(n)
    }
}

impl std::fmt::Display for LessonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

super::named_enum! {
    /// Whether and how a lesson may appear in the knowledge base. Off unless
    /// the author says so.
    #[derive(Default)]
    pub enum Publish ("publish choice") {
        /// Only the two organisations of the visit and admins see it.
        #[default]
        No = "no",
        /// Published under the organisation's name.
        Named = "named",
        /// Published as "a municipality of 20,000–50,000 inhabitants".
        Pseudonymous = "pseudonymous",
    }
}

/// The form as typed (the web form's strings or the API's JSON values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: Option<i64>,
    pub rating: Option<i64>,
    pub recommend: Option<bool>,
    pub publish: Publish,
}

/// A lesson that passed the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    /// The situation the visitor came with (optional).
    pub situation: String,
    /// Strong aspects worth copying.
    pub strengths: String,
    /// Mistakes to avoid.
    pub mistakes: String,
    pub recommendations: String,
    /// Estimated hours the visit saves (0 to 10,000).
    pub hours_saved: i32,
    /// 1 to 5.
    pub rating: i16,
    /// The visitor's answer to "would you recommend this host on this
    /// topic?"; not asked of the host.
    pub recommend: Option<bool>,
    pub publish: Publish,
}

impl Lesson {
    /// What the knowledge base searches: the four texts, folded
    /// (`search::fold`: case and accents do not matter).
    pub fn search_text(&self) -> String {
        super::search::fold(&format!(
            "{} {} {} {}",
            self.situation, self.strengths, self.mistakes, self.recommendations
        ))
    }
}

pub use super::FieldError;

/// Checks a form for one side of a visit. Every problem is reported at
/// once, in `language`, so the form can show them all next to their fields.
pub fn check(
    draft: &Draft,
    side: VisitRole,
    language: Language,
) -> Result<Lesson, Vec<FieldError>> {
    let nl = language == Language::Nl;
    let mut errors = Vec::new();
    let mut text = |field: &'static str, value: &str, required: bool| -> String {
        let value = value.trim();
        let chars = value.chars().count();
        let message = if required && chars < MIN_TEXT_CHARS {
            Some(if nl {
                format!("Schrijf hier minstens {MIN_TEXT_CHARS} tekens.")
            } else {
                format!("Write at least {MIN_TEXT_CHARS} characters here.")
            })
        } else if chars > MAX_TEXT_CHARS {
            Some(if nl {
                format!("Hooguit 4.000 tekens; nu {chars}.")
            } else {
                format!("At most 4,000 characters; now {chars}.")
            })
        } else {
            None
        };
        if let Some(message) = message {
            errors.push(FieldError { field, message });
        }
        value.to_string()
    };
    let situation = text("situation", &draft.situation, false);
    let strengths = text("strengths", &draft.strengths, true);
    let mistakes = text("mistakes", &draft.mistakes, true);
    let recommendations = text("recommendations", &draft.recommendations, false);
    let hours_saved = match draft.hours_saved {
        Some(h) if (0..=MAX_HOURS_SAVED).contains(&h) => h as i32,
        _ => {
            errors.push(FieldError {
                field: "hoursSaved",
                message: if nl {
                    "Schat de bespaarde uren: een heel getal van 0 tot 10.000.".into()
                } else {
                    "Estimate the hours saved: a whole number from 0 to 10,000.".into()
                },
            });
            0
        }
    };
    let rating = match draft.rating {
        Some(r) if (1..=5).contains(&r) => r as i16,
        _ => {
            errors.push(FieldError {
                field: "rating",
                message: if nl {
                    "Geef een cijfer van 1 tot 5.".into()
                } else {
                    "Give a rating from 1 to 5.".into()
                },
            });
            0
        }
    };
    let recommend = match (side, draft.recommend) {
        (VisitRole::Requester, None) => {
            errors.push(FieldError {
                field: "recommend",
                message: if nl {
                    "Zeg of u deze organisatie op dit onderwerp aanraadt.".into()
                } else {
                    "Say whether you recommend this organisation on this topic.".into()
                },
            });
            None
        }
        (VisitRole::Requester, answer) => answer,
        // The host does not recommend itself.
        (VisitRole::Host, _) => None,
    };
    if errors.is_empty() {
        Ok(Lesson {
            situation,
            strengths,
            mistakes,
            recommendations,
            hours_saved,
            rating,
            recommend,
            publish: draft.publish,
        })
    } else {
        Err(errors)
    }
}

/// Three months after the visit the requester is asked what came of it.
pub const FOLLOW_UP_MONTHS: u32 = 3;

super::named_enum! {
    /// "Did you apply what you learned?"
    pub enum Applied ("answer") {
        Yes = "yes",
        Partly = "partly",
        No = "no",
    }
}

/// Checks the follow-up: a choice is required, the text is optional.
pub fn check_followup(
    applied: &str,
    changes: &str,
    language: Language,
) -> Result<(Applied, String), Vec<FieldError>> {
    let nl = language == Language::Nl;
    let mut errors = Vec::new();
    let applied = applied.parse::<Applied>().map_err(|_| {
        errors.push(FieldError {
            field: "applied",
            message: if nl {
                "Kies ja, gedeeltelijk of nee.".into()
            } else {
                "Choose yes, partly or no.".into()
            },
        })
    });
    let changes = changes.trim();
    let chars = changes.chars().count();
    if chars > MAX_TEXT_CHARS {
        errors.push(FieldError {
            field: "changes",
            message: if nl {
                format!("Hooguit 4.000 tekens; nu {chars}.")
            } else {
                format!("At most 4,000 characters; now {chars}.")
            },
        });
    }
    match applied {
        Ok(applied) if errors.is_empty() => Ok((applied, changes.to_string())),
        _ => Err(errors),
    }
}

/// What a pseudonymised lesson says about its author: the kind and a size
/// class ("gemeente, 20.000–50.000 inwoners"), never the name.
pub fn size_class(kind: OrganisationKind, size: i64, language: Language) -> String {
    use super::organisation::SizeUnit;
    use super::organisation::{kind_name, thousands, unit};
    let bounds: &[i64] = match kind.size_unit() {
        SizeUnit::Inhabitants => &[20_000, 50_000, 100_000, 250_000],
        SizeUnit::RentalHomes => &[5_000, 15_000, 40_000],
        SizeUnit::Employees => &[100, 500, 2_000],
    };
    let n = |v: i64| thousands(v, language);
    let range = match bounds.iter().position(|b| size < *b) {
        Some(0) => format!("< {}", n(bounds[0])),
        Some(i) => format!("{}–{}", n(bounds[i - 1]), n(bounds[i])),
        None => format!("≥ {}", n(bounds[bounds.len() - 1])),
    };
    format!(
        "{}, {range} {}",
        kind_name(kind, language),
        unit(kind, language)
    )
}

/// When the forms' emails go, for one completed visit.
pub mod schedule {
    use super::*;

    /// A form link made when the visit completed works until this moment.
    pub fn form_expires(completed: NaiveDateTime) -> NaiveDateTime {
        completed + Duration::days(FORM_DAYS)
    }

    /// The follow-up is due three months after the visit's day.
    pub fn followup_due(visit: NaiveDate, today: NaiveDate) -> bool {
        visit
            .checked_add_months(chrono::Months::new(FOLLOW_UP_MONTHS))
            .is_some_and(|due| today >= due)
    }

    /// The one reminder is due a week after the forms went out, while the
    /// links still work.
    pub fn reminder_due(completed: NaiveDateTime, now: NaiveDateTime) -> bool {
        now >= completed + Duration::days(REMINDER_DAYS) && now < form_expires(completed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            situation: "Wij draaiden alles in een eigen serverruimte.".into(),
            strengths: "Een exitplan per applicatie, vooraf met de leverancier besproken.".into(),
            mistakes: "Licenties niet vooraf geteld; dat kostte twee maanden.".into(),
            recommendations: String::new(),
            hours_saved: Some(120),
            rating: Some(4),
            recommend: Some(true),
            publish: Publish::Pseudonymous,
        }
    }

    #[test]
    fn a_complete_form_passes_and_is_trimmed() {
        let mut d = draft();
        d.strengths = format!("  {}  ", d.strengths);
        let lesson = check(&d, VisitRole::Requester, Language::Nl).unwrap();
        assert_eq!(
            lesson.strengths,
            "Een exitplan per applicatie, vooraf met de leverancier besproken."
        );
        assert_eq!((lesson.hours_saved, lesson.rating), (120, 4));
        assert_eq!(lesson.recommend, Some(true));
        assert_eq!(lesson.publish, Publish::Pseudonymous);
    }

    #[test]
    fn every_problem_is_named_at_its_field_in_the_readers_language() {
        let bad = Draft {
            situation: "x".repeat(4001),
            strengths: "kort".into(),
            mistakes: String::new(),
            recommendations: String::new(),
            hours_saved: Some(-1),
            rating: Some(6),
            recommend: None,
            publish: Publish::No,
        };
        let errors = check(&bad, VisitRole::Requester, Language::Nl).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "situation",
                "strengths",
                "mistakes",
                "hoursSaved",
                "rating",
                "recommend"
            ]
        );
        assert_eq!(errors[0].message, "Hooguit 4.000 tekens; nu 4001.");
        assert_eq!(errors[4].message, "Geef een cijfer van 1 tot 5.");
        let en = check(&bad, VisitRole::Requester, Language::En).unwrap_err();
        assert_eq!(en[4].message, "Give a rating from 1 to 5.");
        // Missing numbers are errors too, not zeros.
        let mut d = draft();
        d.hours_saved = None;
        d.rating = None;
        let errors = check(&d, VisitRole::Requester, Language::En).unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn the_host_is_not_asked_to_recommend_itself() {
        let mut d = draft();
        d.recommend = None;
        assert_eq!(
            check(&d, VisitRole::Host, Language::Nl).unwrap().recommend,
            None
        );
        d.recommend = Some(true);
        assert_eq!(
            check(&d, VisitRole::Host, Language::Nl).unwrap().recommend,
            None
        );
    }

    #[test]
    fn publishing_is_off_unless_chosen() {
        assert_eq!(Draft::default().publish, Publish::No);
        assert_eq!("named".parse::<Publish>().unwrap(), Publish::Named);
        assert!("public".parse::<Publish>().is_err());
    }

    #[test]
    fn the_reminder_comes_after_a_week_while_the_links_work() {
        let done = chrono::NaiveDate::from_ymd_opt(2027, 3, 3)
            .unwrap()
            .and_hms_opt(6, 0, 0)
            .unwrap();
        assert!(!schedule::reminder_due(done, done + Duration::days(6)));
        assert!(schedule::reminder_due(done, done + Duration::days(7)));
        assert!(!schedule::reminder_due(done, done + Duration::days(60)));
        assert_eq!(schedule::form_expires(done), done + Duration::days(60));
    }

    fn rated(rating: u8, days_ago: i64) -> Rated {
        Rated {
            rating,
            hours_saved: 10,
            on: today() - Duration::days(days_ago),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()
    }

    #[test]
    fn the_prior_keeps_one_glowing_visit_below_ten_good_ones() {
        let rules = ReputationRules::default();
        let one = reputation(&[rated(5, 0)], &rules, today());
        let ten = reputation(&[rated(5, 0), rated(4, 0)].repeat(5), &rules, today());
        // (3 × 3 + 5) / 4 = 3.5; (3 × 3 + 45) / 13 ≈ 4.154
        assert!((one.score - 3.5).abs() < 1e-9, "{}", one.score);
        assert!((ten.score - 54.0 / 13.0).abs() < 1e-9, "{}", ten.score);
        assert!(ten.score > one.score);
        assert_eq!(
            (ten.visits, ten.mean_rating, ten.hours_saved),
            (10, 4.5, 100)
        );
        // Nobody rated: exactly the prior.
        let none = reputation(&[], &rules, today());
        assert_eq!(none.score, 3.0);
        assert_eq!(none, Reputation::unrated(&rules));
    }

    #[test]
    fn old_ratings_count_less() {
        let rules = ReputationRules::default();
        // A 1 from four years ago (two half-lives: weight ¼) and a recent 5:
        // (9 + ¼ × 1 + 5) / (3 + ¼ + 1) = 14.25 / 4.25 ≈ 3.353
        let r = reputation(&[rated(1, 1460), rated(5, 0)], &rules, today());
        assert!((r.score - 14.25 / 4.25).abs() < 1e-9, "{}", r.score);
        // Without decay the old 1 would weigh fully: (9 + 1 + 5) / 5 = 3.0.
        let no_decay = ReputationRules {
            half_life_days: 1e12,
            ..rules
        };
        let flat = reputation(&[rated(1, 1460), rated(5, 0)], &no_decay, today());
        assert!((flat.score - 3.0).abs() < 1e-6, "{}", flat.score);
        // The plain average ignores age.
        assert_eq!(r.mean_rating, 3.0);
    }

    #[test]
    fn the_prior_is_configurable_and_checked() {
        let strict = ReputationRules {
            prior_mean: 2.0,
            prior_weight: 10.0,
            half_life_days: 365.0,
        };
        let r = reputation(&[rated(5, 0)], &strict, today());
        assert!((r.score - 25.0 / 11.0).abs() < 1e-9);
        assert!(strict.validate().is_ok());
        for bad in [
            ReputationRules {
                prior_mean: 6.0,
                ..strict
            },
            ReputationRules {
                prior_weight: 0.0,
                ..strict
            },
            ReputationRules {
                half_life_days: f64::NAN,
                ..strict
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pseudonyms_say_kind_and_size_class_only() {
        use OrganisationKind::*;
        assert_eq!(
            size_class(Municipality, 32_000, Language::Nl),
            "gemeente, 20.000–50.000 inwoners"
        );
        assert_eq!(
            size_class(Municipality, 920_000, Language::En),
            "municipality, ≥ 250,000 inhabitants"
        );
        assert_eq!(
            size_class(HousingCorporation, 3_000, Language::Nl),
            "woningcorporatie, < 5.000 huurwoningen"
        );
        assert_eq!(
            size_class(Other, 500, Language::En),
            "other organisation, 500–2,000 employees"
        );
    }

    #[test]
    fn the_follow_up_comes_three_months_after_the_visit() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap();
        assert!(!schedule::followup_due(
            day,
            NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()
        ));
        assert!(schedule::followup_due(
            day,
            NaiveDate::from_ymd_opt(2027, 6, 2).unwrap()
        ));
        assert_eq!(
            check_followup("partly", "  Exitplan overgenomen.  ", Language::Nl).unwrap(),
            (Applied::Partly, "Exitplan overgenomen.".to_string())
        );
        let errors = check_followup("", &"x".repeat(4001), Language::En).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["applied", "changes"]);
    }
}
