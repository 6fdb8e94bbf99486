//! Figures for partners and admins: visits per topic per month, how many
//! lessons forms are answered, and the time saved per topic.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use super::Invalid;

/// A calendar month, `2027-03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn parse(raw: &str) -> Result<Month, Invalid> {
        let bad = || Invalid::new(format!("'{raw}' is not a month like 2027-03"));
        let (y, m) = raw.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let month = Month {
            year: y.parse().map_err(|_| bad())?,
            month: m.parse().map_err(|_| bad())?,
        };
        month.first_day().ok_or_else(bad)?;
        Ok(month)
    }

    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    /// The last day of the month.
    pub fn last_day(self) -> Option<NaiveDate> {
        self.first_day()
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .and_then(|d| d.pred_opt())
    }

    /// `n` months earlier.
    pub fn minus(self, n: u32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 - n as i32;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A visit with a day, as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFact {
    pub id: i64,
    pub topic: String,
    pub date: NaiveDate,
    /// Held (completed) rather than only scheduled.
    pub held: bool,
}

/// A lesson: which visit, and the hours it says it saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LessonFact {
    pub visit: i64,
    pub hours_saved: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// (topic, month) → visits scheduled or held that month.
    pub visits: BTreeMap<(String, Month), u32>,
    /// Lessons forms sent (two per held visit) and answered.
    pub forms_sent: u32,
    pub forms_answered: u32,
    /// topic → (hours saved, lessons).
    pub time_saved: BTreeMap<String, (i64, u32)>,
}

impl Stats {
    /// Answered ÷ sent; `None` before any form went out.
    pub fn response_rate(&self) -> Option<f64> {
        (self.forms_sent > 0).then(|| f64::from(self.forms_answered) / f64::from(self.forms_sent))
    }
}

/// The figures over the visits of a period and their lessons.
pub fn summarise(visits: &[VisitFact], lessons: &[LessonFact]) -> Stats {
    let mut stats = Stats {
        visits: BTreeMap::new(),
        forms_sent: 0,
        forms_answered: 0,
        time_saved: BTreeMap::new(),
    };
    let mut topic_of: HashMap<i64, (&str, bool)> = HashMap::new();
    for v in visits {
        *stats
            .visits
            .entry((v.topic.clone(), Month::of(v.date)))
            .or_default() += 1;
        if v.held {
            stats.forms_sent += 2;
        }
        topic_of.insert(v.id, (v.topic.as_str(), v.held));
    }
    for l in lessons {
        let Some((topic, held)) = topic_of.get(&l.visit) else {
            continue;
        };
        if *held {
            stats.forms_answered += 1;
        }
        let entry = stats.time_saved.entry(topic.to_string()).or_default();
        entry.0 += l.hours_saved;
        entry.1 += 1;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::d;

    #[test]
    fn months_parse_and_count_back() {
        let m = Month::parse("2027-03").unwrap();
        assert_eq!(m.to_string(), "2027-03");
        assert_eq!(m.minus(3).to_string(), "2026-12");
        assert_eq!(m.minus(14).to_string(), "2026-01");
        assert_eq!(m.last_day(), Some(d(2027, 3, 31)));
        assert_eq!(
            Month::parse("2028-02").unwrap().last_day(),
            Some(d(2028, 2, 29))
        );
        for bad in ["2027-13", "2027-3", "27-03", "maart", "2027-00"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn visits_forms_and_hours_add_up() {
        let visit = |id, topic: &str, date, held| VisitFact {
            id,
            topic: topic.into(),
            date,
            held,
        };
        let visits = [
            visit(1, "cloud", d(2027, 3, 2), true),
            visit(2, "cloud", d(2027, 3, 9), true),
            visit(3, "cloud", d(2027, 4, 6), false),
            visit(4, "privacy", d(2027, 3, 4), true),
        ];
        let lessons = [
            LessonFact {
                visit: 1,
                hours_saved: 80,
            },
            LessonFact {
                visit: 1,
                hours_saved: 8,
            },
            LessonFact {
                visit: 2,
                hours_saved: 40,
            },
            LessonFact {
                visit: 99,
                hours_saved: 1000,
            }, // outside the period
        ];
        let s = summarise(&visits, &lessons);
        assert_eq!(
            s.visits[&("cloud".into(), Month::parse("2027-03").unwrap())],
            2
        );
        assert_eq!(
            s.visits[&("cloud".into(), Month::parse("2027-04").unwrap())],
            1
        );
        assert_eq!(
            s.visits[&("privacy".into(), Month::parse("2027-03").unwrap())],
            1
        );
        assert_eq!((s.forms_sent, s.forms_answered), (6, 3));
        assert_eq!(s.response_rate(), Some(0.5));
        assert_eq!(s.time_saved["cloud"], (128, 3));
        assert!(!s.time_saved.contains_key("privacy"));
        assert_eq!(summarise(&[], &[]).response_rate(), None);
    }
}
