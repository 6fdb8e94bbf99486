//! The Dutch calendar day of a moment: what "today" and "that day" mean to
//! the people Meeloop serves (Europe/Amsterdam), whatever the server's zone.

use chrono::{NaiveDate, NaiveDateTime};

/// Dutch "today".
pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
}

/// A UTC timestamp's day in the Netherlands.
pub fn local_date(at: NaiveDateTime) -> NaiveDate {
    at.and_utc()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
}

/// When `date` begins in the Netherlands, in UTC (midnight is never a
/// clock change there, so there is exactly one).
pub fn utc_midnight(date: NaiveDate) -> NaiveDateTime {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    chrono_tz::Europe::Amsterdam
        .from_local_datetime(&midnight)
        .earliest()
        .map_or(midnight, |t| t.naive_utc())
}

/// A UTC moment as people read it in the Netherlands: "dinsdag 9 december
/// 2026, 14:05" (or the English equivalent).
pub fn long_moment(at: NaiveDateTime, language: crate::domain::organisation::Language) -> String {
    let local = at.and_utc().with_timezone(&chrono_tz::Europe::Amsterdam);
    format!(
        "{}, {}",
        crate::domain::calendar::long_date(local.date_naive(), language),
        local.format("%H:%M")
    )
}
