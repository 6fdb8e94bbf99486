//! What the visits and lessons say about hosts, beside the directory:
//! recent load, declines, reputation, and the leaders of a topic.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::*;
use crate::domain::lesson::{reputation, Rated, Reputation, ReputationRules};
use crate::domain::organisation::OrganisationId;
use crate::domain::topic::TopicId;

/// What the visits record about one host; the default is a host without
/// visits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Activity {
    /// Visits hosted in the last quarter or accepted within the horizon.
    pub hosted_recently: u32,
    /// Visits already booked within the availability horizon.
    pub booked_ahead: u32,
}

/// Everything about hosts that is not in the directory: loaded with the
/// snapshot, for every requester at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub activity: HashMap<OrganisationId, Activity>,
    /// (host, requester, topic): the host declined that requester on that
    /// topic recently.
    pub declined: HashSet<(OrganisationId, OrganisationId, TopicId)>,
    /// A host's standing on a topic from its visitors' lessons; hosts
    /// without lessons are absent (they have the prior).
    pub reputation: HashMap<(OrganisationId, TopicId), Reputation>,
}

impl Context {
    pub(super) fn activity(&self, id: OrganisationId) -> Activity {
        self.activity.get(&id).copied().unwrap_or_default()
    }

    pub(super) fn reputation(
        &self,
        host: OrganisationId,
        topic: TopicId,
        rules: &ReputationRules,
    ) -> Reputation {
        self.reputation
            .get(&(host, topic))
            .copied()
            .unwrap_or_else(|| Reputation::unrated(rules))
    }

    /// Adds what the lessons say (docs/lessons.md): each host's reputation
    /// per topic from its visitors' ratings, and how many lessons on it
    /// are published.
    pub fn add_lessons(
        &mut self,
        lessons: &[LessonFact],
        rules: &ReputationRules,
        today: NaiveDate,
    ) {
        let mut rated: HashMap<(OrganisationId, TopicId), Vec<Rated>> = HashMap::new();
        let mut published: HashMap<(OrganisationId, TopicId), u32> = HashMap::new();
        for l in lessons {
            let key = (l.host, l.topic);
            if l.by_visitor {
                rated.entry(key).or_default().push(Rated {
                    rating: l.rating,
                    hours_saved: l.hours_saved,
                    on: l.on,
                });
            }
            if l.published {
                *published.entry(key).or_default() += 1;
            }
        }
        let keys: HashSet<_> = rated.keys().chain(published.keys()).copied().collect();
        for key in keys {
            let mut standing = reputation(rated.get(&key).map_or(&[][..], |r| r), rules, today);
            standing.published = published.get(&key).copied().unwrap_or(0);
            self.reputation.insert(key, standing);
        }
    }

    /// What the visits say about hosts on `today` (docs/matching.md):
    /// - hosted recently: accepted or held visits dated from
    ///   [`RECENT_DAYS`] ago to the end of the horizon (an accepted visit
    ///   next month counts now, so rotation starts when the host says yes);
    /// - booked ahead: accepted visits from today to the end of the horizon;
    /// - declined: the host said no to that requester on that topic in the
    ///   last [`DECLINE_MEMORY_DAYS`].
    pub fn from_visits(visits: &[VisitFact], today: NaiveDate, horizon_months: u32) -> Context {
        use crate::domain::visit::VisitState as S;
        let recent_from = today - chrono::Duration::days(RECENT_DAYS);
        let horizon_end = today + chrono::Months::new(horizon_months);
        let declines_from = today - chrono::Duration::days(DECLINE_MEMORY_DAYS);
        let mut context = Context::default();
        for v in visits {
            match (v.state, v.date) {
                (S::Accepted | S::Completed, Some(date)) => {
                    let a = context.activity.entry(v.host).or_default();
                    if date >= recent_from && date < horizon_end {
                        a.hosted_recently += 1;
                    }
                    if v.state == S::Accepted && date >= today && date < horizon_end {
                        a.booked_ahead += 1;
                    }
                }
                (S::Declined, _) if v.answered_on.is_some_and(|d| d >= declines_from) => {
                    context.declined.insert((v.host, v.requester, v.topic));
                }
                _ => {}
            }
        }
        context
    }
}

/// "Recently" for fairness: about a quarter.
pub const RECENT_DAYS: i64 = 91;
/// How long a decline keeps that host out of that requester's matches on
/// that topic.
pub const DECLINE_MEMORY_DAYS: i64 = 180;

/// A host's place among the best in class on a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Leader {
    pub host: OrganisationId,
    pub level: u8,
    pub since_year: Option<i32>,
    /// Level, recency and visitors' ratings together (0..1), as matching's
    /// `best` order uses it.
    pub mastery: f64,
    pub class: Class,
    pub reputation: Reputation,
}

impl Leader {
    /// Best or among the best in class: what the digest, the map and the
    /// network call "best in class".
    pub fn best_in_class(&self) -> bool {
        matches!(self.class, Class::Best | Class::AmongBest)
    }
}

/// Best in class on a topic: every active organisation with expertise on
/// it, by mastery (level, recent experience and visitors' ratings: the
/// order of `best` matches), then by reputation, rated visits and id.
pub fn leaders(
    snapshot: &Snapshot,
    topic: TopicId,
    context: &Context,
    tuning: &Tuning,
    today: NaiveDate,
    limit: usize,
) -> Vec<Leader> {
    let Some(topic) = snapshot.topic(topic) else {
        return Vec::new();
    };
    let top = top_of_class(snapshot, topic, context, tuning, today);
    let mut all: Vec<Leader> = topic
        .experts
        .iter()
        .map(|e| {
            let host = snapshot.host_at(e.host).id;
            let (mastery, reputation) = standing(host, e, topic.id, context, tuning, today);
            Leader {
                host,
                level: e.level,
                since_year: e.since_year,
                mastery,
                class: top.class(mastery),
                reputation,
            }
        })
        .collect();
    all.sort_by(|a, b| {
        b.mastery
            .total_cmp(&a.mastery)
            .then_with(|| b.reputation.score.total_cmp(&a.reputation.score))
            .then_with(|| b.reputation.visits.cmp(&a.reputation.visits))
            .then_with(|| a.host.cmp(&b.host))
    });
    all.truncate(limit);
    all
}

/// One lesson, as matching sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LessonFact {
    pub host: OrganisationId,
    pub topic: TopicId,
    /// Written by the visitor (whose rating counts), not the host.
    pub by_visitor: bool,
    pub rating: u8,
    pub hours_saved: i32,
    /// The day of the visit.
    pub on: NaiveDate,
    pub published: bool,
}

/// One visit, as matching sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VisitFact {
    pub host: OrganisationId,
    pub requester: OrganisationId,
    pub topic: TopicId,
    pub state: crate::domain::visit::VisitState,
    pub date: Option<NaiveDate>,
    /// The day the host answered (for declines).
    pub answered_on: Option<NaiveDate>,
}
