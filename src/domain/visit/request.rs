//! The rules for a request: proposed dates, goal, participants, a reason.

use chrono::NaiveDate;

use crate::domain::calendar::{working_day, DayOff};
use crate::domain::organisation::Language;
use crate::domain::{FieldError, Invalid};

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
    let day = |d: NaiveDate| crate::domain::calendar::long_date(d, language);
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
                message: e.message,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::d;

    #[test]
    fn proposed_dates_are_working_days_far_enough_ahead() {
        let today = d(2027, 4, 1);
        let ok = check_proposed_dates(&[d(2027, 4, 28), d(2027, 4, 26)], today, 7, Language::En);
        assert_eq!(ok, Ok(vec![d(2027, 4, 26), d(2027, 4, 28)]));
        let err = |dates: &[NaiveDate], lang| {
            check_proposed_dates(dates, today, 7, lang)
                .unwrap_err()
                .message
        };
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
