//! Calendar files (RFC 5545) for confirmed and cancelled visits: one
//! VEVENT in Dutch local time with the Europe/Amsterdam VTIMEZONE, so every
//! calendar program puts the visit at the right hour, also across the
//! switch to summer time.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use icalendar::{Calendar, Component, EventLike, Property};

/// The rules of Europe/Amsterdam since 1996 (EU): summer time from the last
/// Sunday of March 02:00 to the last Sunday of October 03:00. icalendar has
/// no VTIMEZONE builder, so this goes into the file as written.
const AMSTERDAM: &str = "BEGIN:VTIMEZONE\r
TZID:Europe/Amsterdam\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
";

pub const TZID: &str = "Europe/Amsterdam";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Put it in the calendar (or update it: a higher SEQUENCE wins).
    Request,
    /// Take it out.
    Cancel,
    /// A file to import (the download for participants), not an invitation.
    Publish,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

/// A person with a name and an address.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// What goes into the calendar.
#[derive(Debug, Clone)]
pub struct CalendarEntry {
    /// Stable for the visit: `visit-{id}@{domain}`.
    pub uid: String,
    /// 0 for the first confirmation; higher for every change after.
    pub sequence: u32,
    pub method: Method,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub organizer: Person,
    pub attendees: Vec<Person>,
    pub stamp: DateTime<Utc>,
}

/// A parameter value (RFC 5545 §3.1): it may be quoted, but nothing can
/// escape a DQUOTE or a line break inside it, so a name such as
/// `Zwolle";SENT-BY="mailto:x@evil.example` could otherwise close the quote
/// and add parameters of its own. Double quotes become single ones and
/// control characters spaces.
fn parameter_text(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A text value: icalendar escapes `\n`, `,`, `;` and `\`, but not a bare
/// CR, which would end the line for a parser. Every line break becomes LF.
fn text(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

fn person(key: &str, p: &Person, attendee: bool) -> Property {
    let mut property = Property::new(key, format!("mailto:{}", p.email));
    property.add_parameter("CN", &parameter_text(&p.name));
    if attendee {
        property.add_parameter("ROLE", "REQ-PARTICIPANT");
        property.add_parameter("PARTSTAT", "ACCEPTED");
    }
    property
}

fn local(key: &str, date: NaiveDate, time: NaiveTime) -> Property {
    let mut property = Property::new(key, date.and_time(time).format("%Y%m%dT%H%M%S").to_string());
    property.add_parameter("TZID", TZID);
    property
}

/// The `.ics` text (CRLF line ends, folded as RFC 5545 wants).
pub fn render(event: &CalendarEntry) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Meeloop//Meeloop//NL"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", event.method.as_str()));
    let mut vevent = icalendar::Event::new();
    let start = local("DTSTART", event.date, event.start);
    let end = local("DTEND", event.date, event.end);
    vevent
        .uid(&event.uid)
        .sequence(event.sequence)
        .timestamp(event.stamp)
        .summary(&text(&event.summary))
        .location(&text(&event.location))
        .description(&text(&event.description))
        .append_property(start)
        .append_property(end)
        .append_property(person("ORGANIZER", &event.organizer, false))
        .add_property(
            "STATUS",
            match event.method {
                Method::Request | Method::Publish => "CONFIRMED",
                Method::Cancel => "CANCELLED",
            },
        );
    for attendee in &event.attendees {
        vevent.append_multi_property(person("ATTENDEE", attendee, true));
    }
    calendar.push(vevent.done());
    // The zone goes in as written: icalendar would give every component it
    // builds (also VTIMEZONE, DAYLIGHT, STANDARD) a DTSTAMP and a UID,
    // which RFC 5545 does not allow there.
    calendar.to_string().replacen(
        "BEGIN:VEVENT\r\n",
        &format!("{AMSTERDAM}BEGIN:VEVENT\r\n"),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(date: NaiveDate, method: Method, sequence: u32) -> CalendarEntry {
        CalendarEntry {
            uid: "visit-7@meeloop.example.nl".into(),
            sequence,
            method,
            date,
            start: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            end: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
            summary: "Meeloopdag bij Zwolle: Migratie naar de cloud".into(),
            location: "Zwolle".into(),
            description: "Hoe hebben jullie de exit gepland; wat, nu?".into(),
            organizer: Person {
                name: "Anne de Boer".into(),
                email: "anne@sudwestfryslan.example".into(),
            },
            attendees: vec![Person {
                name: "Zwolle".into(),
                email: "meeloop@zwolle.example".into(),
            }],
            stamp: DateTime::parse_from_rfc3339("2026-11-23T19:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    /// Read back with a real parser (icalendar's own).
    #[test]
    fn a_calendar_program_reads_the_visit_at_local_time() {
        // Monday 27 March 2028, the day after the switch to summer time.
        let monday = NaiveDate::from_ymd_opt(2028, 3, 27).unwrap();
        let text = render(&event(monday, Method::Request, 0));
        assert!(text.lines().all(|l| l.len() <= 75), "folded");
        assert!(text.contains("\r\n"));
        let unfolded = icalendar::parser::unfold(&text);
        let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
        let prop = |props: &[icalendar::parser::Property], key: &str| {
            props
                .iter()
                .find(|p| p.name == key)
                .map(|p| p.val.to_string())
        };
        assert_eq!(
            prop(&calendar.properties, "METHOD").as_deref(),
            Some("REQUEST")
        );
        let timezone = calendar
            .components
            .iter()
            .find(|c| c.name == "VTIMEZONE")
            .unwrap();
        assert_eq!(prop(&timezone.properties, "TZID").as_deref(), Some(TZID));
        // Only the properties RFC 5545 allows in a time zone.
        let zone = &text[text.find("BEGIN:VTIMEZONE").unwrap()..text.find("BEGIN:VEVENT").unwrap()];
        assert_eq!(zone, AMSTERDAM);
        assert!(!zone.contains("DTSTAMP") && !zone.contains("UID"));
        let vevent = calendar
            .components
            .iter()
            .find(|c| c.name == "VEVENT")
            .unwrap();
        assert_eq!(
            prop(&vevent.properties, "UID").as_deref(),
            Some("visit-7@meeloop.example.nl")
        );
        assert_eq!(prop(&vevent.properties, "SEQUENCE").as_deref(), Some("0"));
        assert_eq!(
            prop(&vevent.properties, "DTSTART").as_deref(),
            Some("20280327T093000")
        );
        assert_eq!(
            prop(&vevent.properties, "DTEND").as_deref(),
            Some("20280327T160000")
        );
        let dtstart = vevent
            .properties
            .iter()
            .find(|p| p.name == "DTSTART")
            .unwrap();
        assert!(dtstart
            .params
            .iter()
            .any(|p| p.key == "TZID" && p.val.as_ref().map(|v| v.as_str()) == Some(TZID)));
        // Escaped in the file, the same text after parsing.
        assert!(unfolded.contains("gepland\\; wat\\, nu?"), "{unfolded}");
        assert_eq!(
            prop(&vevent.properties, "DESCRIPTION").as_deref(),
            Some("Hoe hebben jullie de exit gepland; wat, nu?")
        );
        assert!(vevent
            .properties
            .iter()
            .any(|p| p.name == "ATTENDEE" && p.val.as_str() == "mailto:meeloop@zwolle.example"));
        // What the VTIMEZONE rules give for that morning: 09:30 CEST = 07:30 UTC
        // (chrono-tz, from the IANA database, agrees).
        let utc = chrono_tz::Europe::Amsterdam
            .from_local_datetime(&monday.and_hms_opt(9, 30, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(utc.format("%H:%M").to_string(), "07:30");
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
                && text.contains("TZOFFSETTO:+0200")
        );
    }

    /// Hostile names and multi-line text, read back by a real parser:
    /// exactly the parameters we wrote, and the text as typed.
    #[test]
    fn names_and_texts_cannot_add_parameters_or_lines() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap();
        let mut e = event(day, Method::Request, 0);
        let hostile = r#""Zwolle";SENT-BY="mailto:attacker@evil.example";X-INJ="1""#;
        e.attendees[0].name = hostile.into();
        e.organizer.name = "Anne\r\nX-INJ:1".into();
        e.summary = "Meeloopdag\rX-INJ:1".into();
        e.description = "Eerste regel\r\nTweede regel\rDerde: \"citaat\"; tot slot".into();
        let text = render(&e);
        // No line starts with anything we did not write.
        for line in text.split("\r\n") {
            assert!(!line.contains('\r') && !line.contains('\n'), "{line:?}");
            assert!(!line.starts_with("X-INJ"), "{line:?}");
        }
        let unfolded = icalendar::parser::unfold(&text);
        let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
        let vevent = calendar
            .components
            .iter()
            .find(|c| c.name == "VEVENT")
            .unwrap();
        let params = |key: &str| -> Vec<(String, String)> {
            let p = vevent.properties.iter().find(|p| p.name == key).unwrap();
            p.params
                .iter()
                .map(|p| {
                    (
                        p.key.to_string(),
                        p.val.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    )
                })
                .collect()
        };
        let attendee = params("ATTENDEE");
        let mut keys: Vec<&str> = attendee.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort();
        assert_eq!(keys, ["CN", "PARTSTAT", "ROLE"], "{attendee:?}");
        let cn = attendee.iter().find(|(k, _)| k == "CN").unwrap();
        assert_eq!(
            cn.1,
            "'Zwolle';SENT-BY='mailto:attacker@evil.example';X-INJ='1'"
        );
        let organizer = params("ORGANIZER");
        assert_eq!(organizer.len(), 1, "{organizer:?}");
        assert_eq!(organizer[0].1, "Anne  X-INJ:1");
        assert!(vevent.properties.iter().all(|p| p.name != "X-INJ"));
        let value = |key: &str| {
            vevent
                .properties
                .iter()
                .find(|p| p.name == key)
                .map(|p| p.val.to_string())
                .unwrap()
        };
        assert_eq!(value("SUMMARY"), "Meeloopdag\nX-INJ:1");
        assert_eq!(
            value("DESCRIPTION"),
            "Eerste regel\nTweede regel\nDerde: \"citaat\"; tot slot"
        );
    }

    #[test]
    fn a_cancellation_carries_a_higher_sequence() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 2).unwrap();
        let text = render(&event(day, Method::Cancel, 1));
        assert!(text.contains("METHOD:CANCEL\r\n"));
        assert!(text.contains("SEQUENCE:1\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
    }

    use chrono::TimeZone;
}
