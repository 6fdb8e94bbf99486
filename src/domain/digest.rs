//! The monthly digest (docs/digests.md): which month is due, and what of
//! that month is new to one reader. No I/O: the service brings the month's
//! lessons, leaders and visits, and sends what this picks.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::domain::organisation::OrganisationId;
use crate::domain::stats::Month;
use crate::domain::topic::TopicId;

/// A month's digest goes out from this hour (Dutch time) on the first of
/// the next month: in the morning, not at midnight.
pub const SEND_HOUR: i64 = 8;
/// Organisations at most this far from the reader's own are nearby.
pub const NEARBY_KM: f64 = 50.0;
/// Lessons listed in full; more are counted, with a link to the rest.
pub const LESSONS_LISTED: usize = 5;
/// Planned visits listed; more are counted.
pub const VISITS_LISTED: usize = 10;
/// A digest's unsubscribe link works this long: long after the next
/// digest, for the reader who finds an old one. Then it is purged with
/// the other email links (`privacy.link_tokens_days` later).
pub const UNSUBSCRIBE_LINK_DAYS: i64 = 365;

/// Whether an unsubscribe link made at `created` still works at `now`.
pub fn unsubscribe_link_works(created: NaiveDateTime, now: NaiveDateTime) -> bool {
    now < created + Duration::days(UNSUBSCRIBE_LINK_DAYS)
}

/// The month whose digest is due at `local` (Dutch wall-clock time): the
/// last month that ended at least [`SEND_HOUR`] hours ago.
pub fn due_month(local: NaiveDateTime) -> Month {
    Month::of((local - Duration::hours(SEND_HOUR)).date()).minus(1)
}

/// The best in class that were not at the month before. Without the month
/// before (the first digest after an upgrade, or a topic new since) there
/// is nothing to compare with, so nobody is new: a digest announces a
/// change, not the standing.
pub fn new_leaders(
    before: Option<&[OrganisationId]>,
    now: &[OrganisationId],
) -> Vec<OrganisationId> {
    match before {
        None => Vec::new(),
        Some(before) => now
            .iter()
            .filter(|h| !before.contains(h))
            .copied()
            .collect(),
    }
}

/// A lesson published in the month, as picking sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LessonFact {
    pub topic: TopicId,
    /// The organisation that wrote it.
    pub author: OrganisationId,
}

/// A visit accepted in the month and still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedFact {
    pub requester: OrganisationId,
    pub host: OrganisationId,
    pub topic: TopicId,
    pub date: NaiveDate,
}

/// Who the digest is for.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// Their organisation (admins have none: nothing is near them).
    pub organisation: Option<OrganisationId>,
    /// The topics they followed by the end of the month.
    pub topics: &'a [TopicId],
}

/// What one reader's digest holds, as indexes into the month's lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Picked {
    /// Lessons to list, newest first.
    pub lessons: Vec<usize>,
    /// Lessons on their topics beyond those listed.
    pub more_lessons: usize,
    /// (topic, host) new among the best in class, by topic.
    pub leaders: Vec<(TopicId, OrganisationId)>,
    /// (visit, the requester's distance in km), soonest first.
    pub visits: Vec<(usize, f64)>,
    pub more_visits: usize,
}

impl Picked {
    /// How many new things in all: none means no digest this month.
    pub fn items(&self) -> usize {
        self.lessons.len()
            + self.more_lessons
            + self.leaders.len()
            + self.visits.len()
            + self.more_visits
    }
}

/// Picks what is new to `reader` from the month's published lessons
/// (newest first), new best in class per topic, and planned visits
/// (soonest first). Their own organisation's lessons and visits are left
/// out (they know them); a visit counts as nearby when its requester is at
/// most [`NEARBY_KM`] away by `distance_km` (`None`: coordinates unknown).
pub fn pick(
    reader: Reader<'_>,
    lessons: &[LessonFact],
    leaders: &HashMap<TopicId, Vec<OrganisationId>>,
    planned: &[PlannedFact],
    distance_km: impl Fn(OrganisationId, OrganisationId) -> Option<f64>,
) -> Picked {
    let follows = |t: &TopicId| reader.topics.contains(t);
    let own = |o: OrganisationId| reader.organisation == Some(o);
    let mut picked = Picked::default();
    for (i, l) in lessons.iter().enumerate() {
        if follows(&l.topic) && !own(l.author) {
            if picked.lessons.len() < LESSONS_LISTED {
                picked.lessons.push(i);
            } else {
                picked.more_lessons += 1;
            }
        }
    }
    let mut topics = reader.topics.to_vec();
    topics.sort_by_key(|t| t.0);
    for topic in topics {
        for host in leaders.get(&topic).into_iter().flatten() {
            picked.leaders.push((topic, *host));
        }
    }
    if let Some(home) = reader.organisation {
        for (i, v) in planned.iter().enumerate() {
            if !follows(&v.topic) || own(v.requester) || own(v.host) {
                continue;
            }
            let Some(km) = distance_km(home, v.requester).filter(|km| *km <= NEARBY_KM) else {
                continue;
            };
            if picked.visits.len() < VISITS_LISTED {
                picked.visits.push((i, km));
            } else {
                picked.more_visits += 1;
            }
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::d;

    fn at(y: i32, m: u32, day: u32, h: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn a_month_is_due_from_eight_on_the_first_of_the_next() {
        let m = |y, m| Month { year: y, month: m };
        assert_eq!(due_month(at(2027, 3, 1, 7)), m(2027, 1));
        assert_eq!(due_month(at(2027, 3, 1, 8)), m(2027, 2));
        assert_eq!(due_month(at(2027, 3, 31, 23)), m(2027, 2));
        assert_eq!(due_month(at(2027, 1, 1, 9)), m(2026, 12));
        assert_eq!(due_month(at(2027, 1, 1, 7)), m(2026, 11));
    }

    #[test]
    fn only_a_change_in_the_best_in_class_is_news() {
        let (a, b, c) = (OrganisationId(1), OrganisationId(2), OrganisationId(3));
        assert_eq!(new_leaders(None, &[a, b]), vec![]);
        assert_eq!(new_leaders(Some(&[a, b]), &[b, c]), vec![c]);
        assert_eq!(new_leaders(Some(&[a, b]), &[a]), vec![]);
    }

    #[test]
    fn a_reader_gets_their_topics_not_their_own_news_and_visits_nearby() {
        let (home, far, near, other) = (
            OrganisationId(1),
            OrganisationId(2),
            OrganisationId(3),
            OrganisationId(4),
        );
        let (cloud, privacy) = (TopicId(10), TopicId(11));
        let lesson = |topic, author| LessonFact { topic, author };
        let lessons: Vec<LessonFact> = (0..7)
            .map(|_| lesson(cloud, other))
            .chain([lesson(cloud, home), lesson(privacy, other)])
            .collect();
        let leaders = HashMap::from([(cloud, vec![other]), (privacy, vec![far])]);
        let visit = |requester, host, topic| PlannedFact {
            requester,
            host,
            topic,
            date: d(2027, 4, 1),
        };
        let planned = [
            visit(near, other, cloud),
            visit(far, other, cloud),
            visit(near, other, privacy),
            visit(near, home, cloud),
        ];
        let km = |_: OrganisationId, to: OrganisationId| match to {
            t if t == near => Some(12.0),
            t if t == far => Some(180.0),
            _ => None,
        };
        let reader = Reader {
            organisation: Some(home),
            topics: &[cloud],
        };
        let picked = pick(reader, &lessons, &leaders, &planned, km);
        assert_eq!(picked.lessons, vec![0, 1, 2, 3, 4]);
        assert_eq!(picked.more_lessons, 2, "its own lesson is not counted");
        assert_eq!(picked.leaders, vec![(cloud, other)]);
        assert_eq!(
            picked.visits,
            vec![(0, 12.0)],
            "far away, other topic, own: left out"
        );
        assert_eq!(picked.items(), 9);

        let admin = Reader {
            organisation: None,
            topics: &[privacy],
        };
        let picked = pick(admin, &lessons, &leaders, &planned, km);
        assert_eq!((picked.lessons, picked.visits.len()), (vec![8], 0));
        let nobody = Reader {
            organisation: Some(home),
            topics: &[TopicId(99)],
        };
        assert_eq!(pick(nobody, &lessons, &leaders, &planned, km).items(), 0);
    }
}
