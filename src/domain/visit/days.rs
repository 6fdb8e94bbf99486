//! What the calendars say about a proposed day: passed, taken by either
//! side, or a month the host has filled; and the same for many requests
//! at once.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use super::per_month;
use crate::domain::organisation::Language;

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
    /// Why the day is gone, as the requester is told: "dinsdag 2 maart
    /// 2027: Veere heeft die dag al een meeloopdag".
    pub fn to_requester(self, date: NaiveDate, host: &str, language: Language) -> String {
        let day = crate::domain::calendar::long_date(date, language);
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
                crate::domain::calendar::month_name(date, language),
                per_month(capacity, language)
            ),
            (Obstacle::HostFull { capacity }, false) => format!(
                "{host} is fully booked in {} ({})",
                crate::domain::calendar::month_name(date, language),
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

/// A visit with a day: who hosts, who visits, when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booked {
    pub host: i64,
    pub requester: i64,
    pub date: NaiveDate,
}

impl Bookings {
    pub fn new(booked: impl IntoIterator<Item = Booked>) -> Self {
        let mut bookings = Bookings::default();
        for Booked {
            host,
            requester,
            date,
        } in booked
        {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::d;

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
        let booked = |host, requester, date| Booked {
            host,
            requester,
            date,
        };
        let bookings = Bookings::new([booked(1, 2, d(2027, 3, 9)), booked(1, 3, d(2027, 3, 10))]);
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
    }
}
