//! Figures for partners and admins: visits per topic per month, how many
//! lessons forms are answered, the time saved per topic, and how hosts
//! answer requests (acceptance rate, time to answer).

use std::collections::BTreeMap;

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

    /// The month after.
    pub fn next(self) -> Month {
        Month {
            year: self.year + i32::from(self.month == 12),
            month: self.month % 12 + 1,
        }
    }

    /// Every month from `self` to `to`, both included (none when `to` is
    /// earlier).
    pub fn through(self, to: Month) -> Vec<Month> {
        std::iter::successors(Some(self), |m| Some(m.next()))
            .take_while(|m| *m <= to)
            .collect()
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

/// How many visits on one topic had one day, held or only scheduled (the
/// database counts them: a year is a few thousand rows, however many visits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitCount {
    pub topic: String,
    pub date: NaiveDate,
    /// Held (completed) rather than only scheduled.
    pub held: bool,
    pub visits: u32,
}

/// The lessons on one topic's visits of the period, summed (only a held
/// visit has lessons: each is an answered form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonSum {
    pub topic: String,
    pub lessons: u32,
    pub hours_saved: i64,
}

/// What became of a request, as the acceptance figures count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Declined,
    /// The host let it run out.
    Expired,
    /// Still open, withdrawn by the requester, or closed by Meeloop: the
    /// host had no say (not counted in the rate).
    Other,
}

impl Outcome {
    /// From a visit's state and whether the host answered it (a visit
    /// cancelled after acceptance was accepted).
    pub fn of(state: crate::domain::visit::VisitState, answered: bool) -> Outcome {
        use crate::domain::visit::VisitState as S;
        match state {
            S::Accepted | S::Completed => Outcome::Accepted,
            S::Cancelled if answered => Outcome::Accepted,
            S::Declined => Outcome::Declined,
            S::Expired => Outcome::Expired,
            S::Requested | S::Cancelled => Outcome::Other,
        }
    }
}

/// A request made in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFact {
    pub topic: String,
    pub outcome: Outcome,
    /// Hours from the request to the host's answer, when it answered.
    pub hours_to_answer: Option<f64>,
}

/// How hosts answered the requests on one topic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    /// Every request made in the period.
    pub requests: u32,
    pub accepted: u32,
    pub declined: u32,
    pub expired: u32,
    /// The median time to an answer (accepted or declined), in hours.
    pub median_hours: Option<f64>,
}

impl Answers {
    /// Accepted ÷ (accepted + declined + expired): of the requests the
    /// host decided (or let run out), how many it took; `None` before any.
    pub fn acceptance_rate(&self) -> Option<f64> {
        let decided = self.accepted + self.declined + self.expired;
        (decided > 0).then(|| f64::from(self.accepted) / f64::from(decided))
    }
}

/// Per topic, how the period's requests were answered.
pub fn answers(requests: &[RequestFact]) -> BTreeMap<String, Answers> {
    let mut by_topic: BTreeMap<String, (Answers, Vec<f64>)> = BTreeMap::new();
    for r in requests {
        let (a, hours) = by_topic.entry(r.topic.clone()).or_default();
        a.requests += 1;
        match r.outcome {
            Outcome::Accepted => a.accepted += 1,
            Outcome::Declined => a.declined += 1,
            Outcome::Expired => a.expired += 1,
            Outcome::Other => {}
        }
        hours.extend(r.hours_to_answer.filter(|h| h.is_finite() && *h >= 0.0));
    }
    by_topic
        .into_iter()
        .map(|(topic, (mut a, mut hours))| {
            a.median_hours = median(&mut hours);
            (topic, a)
        })
        .collect()
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
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
    /// topic → how its requests were answered (requests made in the period).
    pub answers: BTreeMap<String, Answers>,
}

impl Stats {
    /// Answered ÷ sent; `None` before any form went out.
    pub fn response_rate(&self) -> Option<f64> {
        (self.forms_sent > 0).then(|| f64::from(self.forms_answered) / f64::from(self.forms_sent))
    }
}

/// The figures over the visits of a period and their lessons.
pub fn summarise(visits: &[VisitCount], lessons: &[LessonSum]) -> Stats {
    let mut stats = Stats {
        visits: BTreeMap::new(),
        forms_sent: 0,
        forms_answered: 0,
        time_saved: BTreeMap::new(),
        answers: BTreeMap::new(),
    };
    for v in visits {
        *stats
            .visits
            .entry((v.topic.clone(), Month::of(v.date)))
            .or_default() += v.visits;
        if v.held {
            // One form per side.
            stats.forms_sent += 2 * v.visits;
        }
    }
    for l in lessons {
        stats.forms_answered += l.lessons;
        let entry = stats.time_saved.entry(l.topic.clone()).or_default();
        entry.0 += l.hours_saved;
        entry.1 += l.lessons;
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
        assert_eq!(m.minus(4).next().to_string(), "2026-12");
        assert_eq!(m.minus(3).next().to_string(), "2027-01");
        let months: Vec<String> = m
            .minus(2)
            .through(m)
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(months, ["2027-01", "2027-02", "2027-03"]);
        assert!(m.through(m.minus(1)).is_empty());
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
        let count = |topic: &str, date, held, visits| VisitCount {
            topic: topic.into(),
            date,
            held,
            visits,
        };
        let visits = [
            count("cloud", d(2027, 3, 2), true, 1),
            count("cloud", d(2027, 3, 9), true, 1),
            count("cloud", d(2027, 4, 6), false, 1),
            count("privacy", d(2027, 3, 4), true, 1),
        ];
        let lessons = [LessonSum {
            topic: "cloud".into(),
            lessons: 3,
            hours_saved: 128,
        }];
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

    #[test]
    fn acceptance_counts_what_the_host_decided_and_the_median_answer_time() {
        use crate::domain::visit::VisitState as S;
        let r = |topic: &str, state, hours: Option<f64>| RequestFact {
            topic: topic.into(),
            outcome: Outcome::of(state, hours.is_some()),
            hours_to_answer: hours,
        };
        let requests = [
            r("cloud", S::Completed, Some(10.0)),
            r("cloud", S::Accepted, Some(30.0)),
            r("cloud", S::Cancelled, Some(2.0)), // accepted, then called off
            r("cloud", S::Declined, Some(50.0)),
            r("cloud", S::Expired, None),
            r("cloud", S::Requested, None),
            r("cloud", S::Cancelled, None), // withdrawn: the host had no say
            r("privacy", S::Requested, None),
        ];
        let a = answers(&requests);
        let cloud = &a["cloud"];
        assert_eq!(
            (
                cloud.requests,
                cloud.accepted,
                cloud.declined,
                cloud.expired
            ),
            (7, 3, 1, 1)
        );
        assert_eq!(cloud.acceptance_rate(), Some(0.6));
        assert_eq!(cloud.median_hours, Some(20.0), "of 2, 10, 30, 50");
        assert_eq!(a["privacy"].acceptance_rate(), None);
        assert_eq!(a["privacy"].median_hours, None);
    }
}
