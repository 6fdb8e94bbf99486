//! Dutch working days: weekends and the public holidays of the Algemene
//! termijnenwet (art. 3) are not working days. Visit dates, reminders and
//! lead times are counted with these rules.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Why a date is not a working day, for messages to the person who chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOff {
    Weekend,
    Holiday(Holiday),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    NewYearsDay,
    EasterMonday,
    KingsDay,
    LiberationDay,
    AscensionDay,
    WhitMonday,
    ChristmasDay,
    BoxingDay,
}

impl Holiday {
    /// The name in Dutch and in English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Holiday::NewYearsDay => ("Nieuwjaarsdag", "New Year's Day"),
            Holiday::EasterMonday => ("Tweede Paasdag", "Easter Monday"),
            Holiday::KingsDay => ("Koningsdag", "King's Day"),
            Holiday::LiberationDay => ("Bevrijdingsdag", "Liberation Day"),
            Holiday::AscensionDay => ("Hemelvaartsdag", "Ascension Day"),
            Holiday::WhitMonday => ("Tweede Pinksterdag", "Whit Monday"),
            Holiday::ChristmasDay => ("Eerste Kerstdag", "Christmas Day"),
            Holiday::BoxingDay => ("Tweede Kerstdag", "Boxing Day"),
        }
    }
}

/// Easter Sunday (Gregorian), by the anonymous (Meeus/Jones/Butcher) algorithm.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// The public holiday on `date`, if any. Koningsdag is 27 April, or 26
/// April when the 27th is a Sunday.
pub fn holiday(date: NaiveDate) -> Option<Holiday> {
    let (month, day) = (date.month(), date.day());
    let easter = easter_sunday(date.year());
    let fixed = match (month, day) {
        (1, 1) => Some(Holiday::NewYearsDay),
        (5, 5) => Some(Holiday::LiberationDay),
        (12, 25) => Some(Holiday::ChristmasDay),
        (12, 26) => Some(Holiday::BoxingDay),
        (4, 27) if date.weekday() != Weekday::Sun => Some(Holiday::KingsDay),
        (4, 26) if date.weekday() == Weekday::Sat => Some(Holiday::KingsDay),
        _ => None,
    };
    fixed.or(match (date - easter).num_days() {
        1 => Some(Holiday::EasterMonday),
        39 => Some(Holiday::AscensionDay),
        50 => Some(Holiday::WhitMonday),
        _ => None,
    })
}

/// `Ok` on a working day; otherwise why not.
pub fn working_day(date: NaiveDate) -> Result<(), DayOff> {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return Err(DayOff::Weekend);
    }
    match holiday(date) {
        Some(h) => Err(DayOff::Holiday(h)),
        None => Ok(()),
    }
}

pub fn is_working_day(date: NaiveDate) -> bool {
    working_day(date).is_ok()
}

/// The working day `n` working days before `date` (n ≥ 1).
pub fn working_days_before(date: NaiveDate, n: u32) -> NaiveDate {
    let mut day = date;
    let mut left = n;
    while left > 0 {
        day -= Duration::days(1);
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn months(language: super::organisation::Language) -> [&'static str; 12] {
    match language {
        super::organisation::Language::Nl => MONTHS_NL,
        super::organisation::Language::En => MONTHS_EN,
    }
}

/// A month as people write it: "maart 2027", "March 2027".
pub fn month_name(date: NaiveDate, language: super::organisation::Language) -> String {
    format!(
        "{} {}",
        months(language)[date.month0() as usize],
        date.year()
    )
}

/// A date as people write it: "dinsdag 2 maart 2027", "Tuesday 2 March 2027".
pub fn long_date(date: NaiveDate, language: super::organisation::Language) -> String {
    const DAYS_NL: [&str; 7] = [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ];
    const DAYS_EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let weekday = date.weekday().num_days_from_monday() as usize;
    let month = date.month0() as usize;
    let days = match language {
        super::organisation::Language::Nl => DAYS_NL,
        super::organisation::Language::En => DAYS_EN,
    };
    let months = months(language);
    format!(
        "{} {} {} {}",
        days[weekday],
        date.day(),
        months[month],
        date.year()
    )
}

/// A date, for tests: `d(2027, 3, 1)`.
#[cfg(test)]
pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a real date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dates_in_both_languages() {
        use crate::domain::organisation::Language;
        assert_eq!(
            long_date(d(2027, 3, 2), Language::Nl),
            "dinsdag 2 maart 2027"
        );
        assert_eq!(
            long_date(d(2027, 3, 2), Language::En),
            "Tuesday 2 March 2027"
        );
        assert_eq!(
            long_date(d(2026, 12, 27), Language::Nl),
            "zondag 27 december 2026"
        );
    }

    #[test]
    fn easter_on_known_years() {
        for (year, m, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(year), d(year, m, day), "{year}");
        }
    }

    #[test]
    fn dutch_holidays_of_2027() {
        let holidays: Vec<_> = (0..365)
            .map(|i| d(2027, 1, 1) + Duration::days(i))
            .filter_map(|day| holiday(day).map(|h| (day, h)))
            .collect();
        assert_eq!(
            holidays,
            [
                (d(2027, 1, 1), Holiday::NewYearsDay),
                (d(2027, 3, 29), Holiday::EasterMonday),
                (d(2027, 4, 27), Holiday::KingsDay),
                (d(2027, 5, 5), Holiday::LiberationDay),
                (d(2027, 5, 6), Holiday::AscensionDay),
                (d(2027, 5, 17), Holiday::WhitMonday),
                (d(2027, 12, 25), Holiday::ChristmasDay),
                (d(2027, 12, 26), Holiday::BoxingDay),
            ]
        );
    }

    #[test]
    fn kings_day_moves_to_saturday_when_the_27th_is_a_sunday() {
        // 27 April 2025 was a Sunday.
        assert_eq!(holiday(d(2025, 4, 26)), Some(Holiday::KingsDay));
        assert_eq!(holiday(d(2025, 4, 27)), None);
        assert_eq!(holiday(d(2026, 4, 26)), None);
        assert_eq!(holiday(d(2026, 4, 27)), Some(Holiday::KingsDay));
    }

    #[test]
    fn weekends_and_holidays_are_not_working_days() {
        assert_eq!(working_day(d(2026, 11, 28)), Err(DayOff::Weekend));
        assert_eq!(working_day(d(2026, 11, 29)), Err(DayOff::Weekend));
        assert_eq!(working_day(d(2026, 11, 30)), Ok(()));
        assert_eq!(
            working_day(d(2027, 4, 27)),
            Err(DayOff::Holiday(Holiday::KingsDay))
        );
        assert_eq!(
            working_day(d(2026, 12, 25)),
            Err(DayOff::Holiday(Holiday::ChristmasDay))
        );
    }

    #[test]
    fn counting_working_days_back_skips_weekends_and_holidays() {
        // Two working days before Monday 30 Nov 2026 is Thursday 26 Nov.
        assert_eq!(working_days_before(d(2026, 11, 30), 2), d(2026, 11, 26));
        // Before Wednesday 28 April 2027: Tuesday 27 is Koningsdag.
        assert_eq!(working_days_before(d(2027, 4, 28), 1), d(2027, 4, 26));
        // Before Monday 4 January 2027: Friday 1 is New Year's Day.
        assert_eq!(working_days_before(d(2027, 1, 4), 1), d(2026, 12, 31));
    }
}
