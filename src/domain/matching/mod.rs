//! Matching: which organisations are most worth visiting for a requester
//! on a topic, and why. Pure: the caller hands in a [`Snapshot`] of the
//! directory and the hosts' [`Activity`]; nothing here does I/O.
//!
//! The model (documented for operators in `docs/matching.md`):
//! 1. hard filters drop candidates that must never be proposed;
//! 2. six components in 0..1 ([`Components`]) are combined as a weighted
//!    mean with the configured [`Weights`];
//! 3. candidates are ordered by score, then by the lower recent load, then
//!    by distance, then by id: equal inputs always give equal output.

mod score;
mod snapshot;
pub mod text;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::lesson::{reputation, Rated, Reputation, ReputationRules};
use super::organisation::{OrganisationId, OrganisationKind};
use super::topic::TopicId;
use super::Invalid;

pub use score::{
    availability, distance_km, fairness, maturity, proven_quality, proximity, similarity,
};
pub use snapshot::{Expert, ExpertiseRow, Host, Snapshot, SnapshotTopic};

/// How much each component counts. Any non-negative numbers with a positive
/// sum: the score divides by the sum, so only the proportions matter.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub maturity: f64,
    pub quality: f64,
    pub similarity: f64,
    pub proximity: f64,
    pub availability: f64,
    pub fairness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            maturity: 0.30,
            quality: 0.15,
            similarity: 0.15,
            proximity: 0.20,
            availability: 0.10,
            fairness: 0.10,
        }
    }
}

impl Weights {
    fn as_array(&self) -> [f64; 6] {
        [
            self.maturity,
            self.quality,
            self.similarity,
            self.proximity,
            self.availability,
            self.fairness,
        ]
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let all = self.as_array();
        if all.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(Invalid::new(
                "matching weights must be finite numbers of at least 0",
            ));
        }
        if all.iter().sum::<f64>() <= 0.0 {
            return Err(Invalid::new("at least one matching weight must be above 0"));
        }
        Ok(())
    }
}

/// Tunable parameters of the model (configuration section `[matching]`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    pub weights: Weights,
    /// Distance at which proximity has halved (km).
    pub proximity_half_km: f64,
    /// Visits hosted in the recent window at which fairness has halved.
    pub fairness_half_visits: f64,
    /// Months ahead that availability looks at.
    pub horizon_months: u32,
    /// The prior and decay of proven quality (docs/lessons.md).
    pub reputation: ReputationRules,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            weights: Weights::default(),
            proximity_half_km: 40.0,
            fairness_half_visits: 2.0,
            horizon_months: 3,
            reputation: ReputationRules::default(),
        }
    }
}

impl Tuning {
    pub fn validate(&self) -> Result<(), Invalid> {
        self.weights.validate()?;
        if !(self.proximity_half_km.is_finite() && self.proximity_half_km > 0.0) {
            return Err(Invalid::new("matching.proximity_half_km must be above 0"));
        }
        if !(self.fairness_half_visits.is_finite() && self.fairness_half_visits > 0.0) {
            return Err(Invalid::new(
                "matching.fairness_half_visits must be above 0",
            ));
        }
        if !(1..=24).contains(&self.horizon_months) {
            return Err(Invalid::new("matching.horizon_months must be 1 to 24"));
        }
        self.reputation.validate()
    }
}

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
    fn activity(&self, id: OrganisationId) -> Activity {
        self.activity.get(&id).copied().unwrap_or_default()
    }

    fn reputation(
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
        use super::visit::VisitState as S;
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
    pub reputation: Reputation,
}

/// Best in class on a topic: every active organisation with expertise on
/// it, by reputation (the Bayesian score), then by rated visits, then by
/// level, then by id. A host nobody rated has the prior's score, so one
/// rated below the prior ranks under it: that is the point of the prior.
pub fn leaders(
    snapshot: &Snapshot,
    topic: TopicId,
    context: &Context,
    rules: &ReputationRules,
    limit: usize,
) -> Vec<Leader> {
    let Some(topic) = snapshot.topic(topic) else {
        return Vec::new();
    };
    let mut all: Vec<Leader> = topic
        .experts
        .iter()
        .map(|e| {
            let host = snapshot.host_at(e.host).id;
            Leader {
                host,
                level: e.level,
                reputation: context.reputation(host, topic.id, rules),
            }
        })
        .collect();
    all.sort_by(|a, b| {
        b.reputation
            .score
            .total_cmp(&a.reputation.score)
            .then_with(|| b.reputation.visits.cmp(&a.reputation.visits))
            .then_with(|| b.level.cmp(&a.level))
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
    pub state: super::visit::VisitState,
    pub date: Option<NaiveDate>,
    /// The day the host answered (for declines).
    pub answered_on: Option<NaiveDate>,
}

/// A match request, parsed and checked.
#[derive(Debug, Clone)]
pub struct MatchQuery {
    pub requester: OrganisationId,
    pub topic: TopicId,
    pub limit: usize,
    /// Only these kinds of organisation (all when empty).
    pub kinds: Vec<OrganisationKind>,
    pub province: Option<String>,
    pub max_distance_km: Option<f64>,
    /// Maturity counts recent experience more; "recent" is relative to this day.
    pub today: NaiveDate,
}

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 50;

/// The six components, each in 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Components {
    pub maturity: f64,
    pub quality: f64,
    pub similarity: f64,
    pub proximity: f64,
    pub availability: f64,
    pub fairness: f64,
}

impl Components {
    fn as_array(&self) -> [f64; 6] {
        [
            self.maturity,
            self.quality,
            self.similarity,
            self.proximity,
            self.availability,
            self.fairness,
        ]
    }

    /// The weighted mean: 0..1.
    pub fn score(&self, weights: &Weights) -> f64 {
        let w = weights.as_array();
        let total: f64 = w.iter().sum();
        let sum: f64 = self.as_array().iter().zip(w).map(|(c, w)| c * w).sum();
        sum / total
    }
}

/// One proposed host, with what it was scored on.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub host: OrganisationId,
    pub score: f64,
    pub components: Components,
    pub distance_km: f64,
    /// The host's level and since-year on the topic.
    pub level: u8,
    pub since_year: Option<i32>,
    pub activity: Activity,
    /// Its standing on the topic from earlier visitors' lessons.
    pub reputation: Reputation,
    /// Visit slots over the horizon, and how many are still free.
    pub capacity: u32,
    pub capacity_left: u32,
}

/// Why a candidate was not proposed: the first hard filter it failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Exclusion {
    /// It is the requester itself.
    Requester,
    /// Unknown, or deactivated.
    NotInDirectory,
    /// It has no expertise on the topic.
    NoExpertise,
    NotWillingToHost,
    /// Its level is not above the requester's.
    NotAhead {
        host_level: u8,
        requester_level: u8,
    },
    DeclinedRecently,
    NoCapacity,
    KindNotAsked {
        kind: OrganisationKind,
    },
    ProvinceNotAsked {
        province: Option<String>,
    },
    TooFar {
        distance_km: f64,
        max_km: f64,
    },
}

impl Exclusion {
    /// Stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Exclusion::Requester => "requester",
            Exclusion::NotInDirectory => "not_in_directory",
            Exclusion::NoExpertise => "no_expertise",
            Exclusion::NotWillingToHost => "not_willing_to_host",
            Exclusion::NotAhead { .. } => "not_ahead",
            Exclusion::DeclinedRecently => "declined_recently",
            Exclusion::NoCapacity => "no_capacity",
            Exclusion::KindNotAsked { .. } => "kind_not_asked",
            Exclusion::ProvinceNotAsked { .. } => "province_not_asked",
            Exclusion::TooFar { .. } => "too_far",
        }
    }
}

/// Whom a match request is for: a coordinator matches for their own
/// organisation (naming it is allowed, naming another is not); an admin,
/// who has none, must name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequesterError {
    NotYours,
    MustName,
}

pub fn requester(
    user: &crate::domain::account::User,
    asked: Option<OrganisationId>,
) -> Result<OrganisationId, RequesterError> {
    use crate::domain::account::Role;
    match (user.role, user.organisation_id, asked) {
        (Role::Coordinator, Some(own), None) => Ok(own),
        (Role::Coordinator, Some(own), Some(asked)) if asked == own => Ok(own),
        (Role::Coordinator, _, _) => Err(RequesterError::NotYours),
        (Role::Admin, _, Some(asked)) => Ok(asked),
        (Role::Admin, _, None) => Err(RequesterError::MustName),
    }
}

/// `limit`: 1 to [`MAX_LIMIT`].
pub fn parse_limit(raw: &str) -> Result<usize, Invalid> {
    match raw.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(Invalid::new(format!(
            "limit must be a whole number from 1 to {MAX_LIMIT}, not '{raw}'"
        ))),
    }
}

/// `kinds`: organisation kinds separated by commas, without repeats.
pub fn parse_kinds(raw: &str) -> Result<Vec<OrganisationKind>, Invalid> {
    let mut kinds = raw
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<OrganisationKind>, _>>()?;
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    Ok(kinds)
}

/// `maxDistanceKm`: 1 to 1000.
pub fn parse_max_distance(raw: &str) -> Result<f64, Invalid> {
    match raw.parse::<f64>() {
        Ok(km) if (1.0..=1000.0).contains(&km) => Ok(km),
        _ => Err(Invalid::new(format!(
            "maxDistanceKm must be a number from 1 to 1000, not '{raw}'"
        ))),
    }
}

/// Where one candidate stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Explanation {
    /// Ranked `rank` (1-based) of `of` candidates that passed every filter.
    Ranked {
        rank: usize,
        of: usize,
        candidate: Candidate,
    },
    Excluded {
        reason: Exclusion,
        /// The distance, when both positions are known.
        distance_km: Option<f64>,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchError {
    #[error("the requesting organisation is not in the directory (deactivated?)")]
    UnknownRequester,
    #[error("the topic is not in the catalogue (retired?)")]
    UnknownTopic,
}

/// The best `query.limit` hosts, best first.
pub fn rank(
    snapshot: &Snapshot,
    query: &MatchQuery,
    context: &Context,
    tuning: &Tuning,
) -> Result<Vec<Candidate>, MatchError> {
    let mut all = candidates(snapshot, query, context, tuning)?;
    let k = query.limit.min(all.len());
    if k == 0 {
        return Ok(Vec::new());
    }
    // Partition around the k-th best, then sort only the top k.
    if k < all.len() {
        all.select_nth_unstable_by(k - 1, order);
        all.truncate(k);
    }
    all.sort_unstable_by(order);
    Ok(all)
}

/// Where `host` ranks for this query, or which filter excluded it.
pub fn explain(
    snapshot: &Snapshot,
    query: &MatchQuery,
    context: &Context,
    tuning: &Tuning,
    host: OrganisationId,
) -> Result<Explanation, MatchError> {
    let requester = snapshot
        .host(query.requester)
        .ok_or(MatchError::UnknownRequester)?;
    let topic = snapshot
        .topic(query.topic)
        .ok_or(MatchError::UnknownTopic)?;
    let Some(candidate_host) = snapshot.host(host) else {
        return Ok(Explanation::Excluded {
            reason: Exclusion::NotInDirectory,
            distance_km: None,
        });
    };
    let distance = distance_km(requester, candidate_host);
    let requester_level = topic.level_of(query.requester);
    let expert = topic.expert(host);
    match assess(
        requester,
        requester_level,
        candidate_host,
        expert,
        query,
        context,
        tuning,
    ) {
        Err(reason) => Ok(Explanation::Excluded {
            reason,
            distance_km: Some(distance),
        }),
        Ok(candidate) => {
            let all = candidates(snapshot, query, context, tuning)?;
            let ahead = all
                .iter()
                .filter(|c| order(c, &candidate) == Ordering::Less)
                .count();
            Ok(Explanation::Ranked {
                rank: ahead + 1,
                of: all.len(),
                candidate,
            })
        }
    }
}

/// Every host that passes the filters, scored, in no particular order.
fn candidates(
    snapshot: &Snapshot,
    query: &MatchQuery,
    context: &Context,
    tuning: &Tuning,
) -> Result<Vec<Candidate>, MatchError> {
    let requester = snapshot
        .host(query.requester)
        .ok_or(MatchError::UnknownRequester)?;
    let topic = snapshot
        .topic(query.topic)
        .ok_or(MatchError::UnknownTopic)?;
    let requester_level = topic.level_of(query.requester);
    Ok(topic
        .experts
        .iter()
        .filter_map(|expert| {
            let host = snapshot.host_at(expert.host);
            assess(
                requester,
                requester_level,
                host,
                Some(expert),
                query,
                context,
                tuning,
            )
            .ok()
        })
        .collect())
}

/// Applies the hard filters in a fixed order and scores what passes.
fn assess(
    requester: &Host,
    requester_level: u8,
    host: &Host,
    expert: Option<&Expert>,
    query: &MatchQuery,
    context: &Context,
    tuning: &Tuning,
) -> Result<Candidate, Exclusion> {
    if host.id == requester.id {
        return Err(Exclusion::Requester);
    }
    let expert = expert.ok_or(Exclusion::NoExpertise)?;
    if !expert.willing_to_host {
        return Err(Exclusion::NotWillingToHost);
    }
    if expert.level <= requester_level {
        return Err(Exclusion::NotAhead {
            host_level: expert.level,
            requester_level,
        });
    }
    if context
        .declined
        .contains(&(host.id, requester.id, query.topic))
    {
        return Err(Exclusion::DeclinedRecently);
    }
    let activity = context.activity(host.id);
    let standing = context.reputation(host.id, query.topic, &tuning.reputation);
    let capacity = (host.monthly_capacity.max(0) as u32).saturating_mul(tuning.horizon_months);
    let capacity_left = capacity.saturating_sub(activity.booked_ahead);
    if capacity_left == 0 {
        return Err(Exclusion::NoCapacity);
    }
    if !query.kinds.is_empty() && !query.kinds.contains(&host.kind) {
        return Err(Exclusion::KindNotAsked { kind: host.kind });
    }
    if let Some(province) = &query.province {
        if host.province.as_deref() != Some(province.as_str()) {
            return Err(Exclusion::ProvinceNotAsked {
                province: host.province.clone(),
            });
        }
    }
    let distance = distance_km(requester, host);
    if let Some(max_km) = query.max_distance_km {
        if distance > max_km {
            return Err(Exclusion::TooFar {
                distance_km: distance,
                max_km,
            });
        }
    }
    let components = Components {
        maturity: maturity(expert.level, expert.since_year, query.today),
        quality: proven_quality(&standing),
        similarity: similarity(requester, host),
        proximity: proximity(distance, tuning.proximity_half_km),
        availability: availability(capacity, capacity_left),
        fairness: fairness(activity.hosted_recently, tuning.fairness_half_visits),
    };
    Ok(Candidate {
        host: host.id,
        score: components.score(&tuning.weights),
        components,
        distance_km: distance,
        level: expert.level,
        since_year: expert.since_year,
        activity,
        reputation: standing,
        capacity,
        capacity_left,
    })
}

/// Best first: higher score, then the less busy host (so near-equal hosts
/// take turns), then the nearer, then the lower id.
fn order(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.activity.hosted_recently.cmp(&b.activity.hosted_recently))
        .then_with(|| a.distance_km.total_cmp(&b.distance_km))
        .then_with(|| a.host.0.cmp(&b.host.0))
}

#[cfg(test)]
mod tests;
