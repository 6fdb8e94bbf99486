//! Matching: which organisations are most worth visiting for a requester
//! on a topic, and why. Pure: the caller hands in a [`Snapshot`] of the
//! directory and the hosts' [`Activity`]; nothing here does I/O.
//!
//! The model (documented for operators in `docs/matching.md`):
//! 1. hard filters drop candidates that must never be proposed;
//! 2. components in 0..1 ([`Components`]); one of them leads, chosen by the
//!    requester's [`Preference`] (by default [`mastery`]: the best first),
//!    and the weighted mean of the others ([`Weights`]) orders candidates
//!    only within a band of the leading one;
//! 3. candidates are ordered by score, then by the lower recent load, then
//!    by distance, then by id: equal inputs always give equal output.

mod context;
mod query;
mod score;
mod snapshot;
pub mod text;
mod tuning;

use std::cmp::Ordering;

use chrono::NaiveDate;

use super::lesson::Reputation;
use super::organisation::{OrganisationId, OrganisationKind};
use super::topic::TopicId;

pub use context::*;
pub use query::*;
pub use score::{
    availability, distance_km, fairness, mastery, maturity, proven_quality, proximity, recency,
    similarity, LEVEL, MASTERY_SCALE, QUALITY_LEVELS, RECENCY_LEVELS,
};
pub use snapshot::{Expert, ExpertiseRow, Host, Snapshot, SnapshotTopic};
pub use tuning::*;

/// The components, each in 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Components {
    /// Level and recency together (shown; [`Components::mastery`] orders).
    pub maturity: f64,
    /// Visitors' ratings (0.5 until there are some).
    pub quality: f64,
    /// Level, recency and quality: how good the host is at the topic.
    pub mastery: f64,
    pub similarity: f64,
    pub proximity: f64,
    pub availability: f64,
    pub fairness: f64,
}

impl Components {
    /// The leading component plus [`Preference::band`] times the weighted
    /// mean of the others, scaled to 0..1.
    pub fn score(&self, preference: Preference, weights: &Weights) -> f64 {
        let w = weights;
        let (lead, others) = match preference {
            Preference::Best => (
                self.mastery,
                [
                    (self.similarity, w.similarity),
                    (self.proximity, w.proximity),
                    (self.availability, w.availability),
                    (self.fairness, w.fairness),
                ],
            ),
            Preference::Near => (
                self.proximity,
                [
                    (self.mastery, w.mastery),
                    (self.similarity, w.similarity),
                    (self.availability, w.availability),
                    (self.fairness, w.fairness),
                ],
            ),
            Preference::Similar => (
                self.similarity,
                [
                    (self.mastery, w.mastery),
                    (self.proximity, w.proximity),
                    (self.availability, w.availability),
                    (self.fairness, w.fairness),
                ],
            ),
        };
        let total: f64 = others.iter().map(|(_, w)| w).sum();
        let support = if total > 0.0 {
            others.iter().map(|(c, w)| c * w).sum::<f64>() / total
        } else {
            0.0
        };
        let band = preference.band();
        (lead + band * support) / (1.0 + band)
    }
}

/// Where a host stands among everyone with expertise on the topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The only one within half a level of the top mastery.
    Best,
    /// One of several within half a level of the top mastery.
    AmongBest,
    /// Ahead of the requester, below the best.
    Ahead,
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
    /// Among the best in class on the topic, or only ahead of the requester.
    pub class: Class,
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
    Ok(best(
        candidates(snapshot, query, context, tuning)?,
        query.limit,
    ))
}

/// The best `k` of `all`, best first.
fn best(mut all: Vec<Candidate>, k: usize) -> Vec<Candidate> {
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    // Partition around the k-th best, then sort only the top k.
    if k < all.len() {
        all.select_nth_unstable_by(k - 1, order);
        all.truncate(k);
    }
    all.sort_unstable_by(order);
    all
}

/// The best in class and good peers nearby, side by side, whatever order
/// the request asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Glance {
    /// Up to `size` of the best in class who can have the requester, in
    /// the `best` order; when none of them can, the first in that order.
    pub best: Vec<Candidate>,
    /// Whether `best` holds the best in class (or only the furthest along
    /// of those the requester can visit).
    pub best_in_class: bool,
    /// The first `size` in the `near` order that are not in `best`.
    pub near: Vec<Candidate>,
}

/// Both halves of a [`Glance`] from one pass over the candidates, each
/// scored in its own order (the query's `preference` and `limit` are not
/// used).
pub fn glance(
    snapshot: &Snapshot,
    query: &MatchQuery,
    context: &Context,
    tuning: &Tuning,
    size: usize,
) -> Result<Glance, MatchError> {
    let all = candidates(snapshot, query, context, tuning)?;
    let scored = |preference| -> Vec<Candidate> {
        all.iter()
            .map(|c| Candidate {
                score: c.components.score(preference, &tuning.weights),
                ..c.clone()
            })
            .collect()
    };
    let mut top = best(scored(Preference::Best), size);
    let best_in_class = top.first().is_some_and(|c| c.class != Class::Ahead);
    if best_in_class {
        top.retain(|c| c.class != Class::Ahead);
    } else {
        top.truncate(1);
    }
    let near = best(scored(Preference::Near), size + top.len())
        .into_iter()
        .filter(|c| top.iter().all(|b| b.host != c.host))
        .take(size)
        .collect();
    Ok(Glance {
        best: top,
        best_in_class,
        near,
    })
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
    let asked = Asked {
        requester,
        requester_level,
        top: top_of_class(snapshot, topic, context, tuning, query.today),
        query,
        context,
        tuning,
    };
    match asked.assess(candidate_host, expert) {
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
    let asked = Asked {
        requester,
        requester_level: topic.level_of(query.requester),
        top: top_of_class(snapshot, topic, context, tuning, query.today),
        query,
        context,
        tuning,
    };
    Ok(topic
        .experts
        .iter()
        .filter_map(|expert| {
            asked
                .assess(snapshot.host_at(expert.host), Some(expert))
                .ok()
        })
        .collect())
}

/// The highest mastery on a topic among everyone with expertise on it,
/// and how many are within [`BEST_BAND`] of it: the best in class.
#[derive(Debug, Clone, Copy)]
struct Top {
    mastery: f64,
    within: usize,
}

impl Top {
    fn class(&self, mastery: f64) -> Class {
        // A hair of slack so that equal masteries computed in another
        // order never fall out of the band.
        if mastery >= self.mastery - BEST_BAND - 1e-12 {
            if self.within > 1 {
                Class::AmongBest
            } else {
                Class::Best
            }
        } else {
            Class::Ahead
        }
    }
}

/// A host's mastery on a topic and the reputation it came from.
fn standing(
    host: OrganisationId,
    expert: &Expert,
    topic: TopicId,
    context: &Context,
    tuning: &Tuning,
    today: NaiveDate,
) -> (f64, Reputation) {
    let reputation = context.reputation(host, topic, &tuning.reputation);
    let m = mastery(
        expert.level,
        recency(expert.since_year, today),
        proven_quality(&reputation),
    );
    (m, reputation)
}

fn top_of_class(
    snapshot: &Snapshot,
    topic: &SnapshotTopic,
    context: &Context,
    tuning: &Tuning,
    today: NaiveDate,
) -> Top {
    let all: Vec<f64> = topic
        .experts
        .iter()
        .map(|e| {
            standing(
                snapshot.host_at(e.host).id,
                e,
                topic.id,
                context,
                tuning,
                today,
            )
            .0
        })
        .collect();
    let best = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Top {
        mastery: best,
        within: all
            .iter()
            .filter(|&&m| m >= best - BEST_BAND - 1e-12)
            .count(),
    }
}

/// One match request against one topic, with what every candidate is
/// measured against.
struct Asked<'a> {
    requester: &'a Host,
    requester_level: u8,
    top: Top,
    query: &'a MatchQuery,
    context: &'a Context,
    tuning: &'a Tuning,
}

impl Asked<'_> {
    /// Applies the hard filters in a fixed order and scores what passes.
    fn assess(&self, host: &Host, expert: Option<&Expert>) -> Result<Candidate, Exclusion> {
        let Asked {
            requester,
            requester_level,
            query,
            context,
            tuning,
            ..
        } = *self;
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
        let (mastery, reputation) =
            standing(host.id, expert, query.topic, context, tuning, query.today);
        let components = Components {
            maturity: maturity(expert.level, expert.since_year, query.today),
            quality: proven_quality(&reputation),
            mastery,
            similarity: similarity(requester, host),
            proximity: proximity(distance, tuning.proximity_half_km),
            availability: availability(capacity, capacity_left),
            fairness: fairness(activity.hosted_recently, tuning.fairness_half_visits),
        };
        Ok(Candidate {
            host: host.id,
            score: components.score(query.preference, &tuning.weights),
            components,
            distance_km: distance,
            level: expert.level,
            class: self.top.class(mastery),
            since_year: expert.since_year,
            activity,
            reputation,
            capacity,
            capacity_left,
        })
    }
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
