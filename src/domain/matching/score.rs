//! The components, each a pure function into 0..1.

use chrono::{Datelike, NaiveDate};

use super::snapshot::Host;

/// Mean Earth radius (IUGG), km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance (haversine), in km.
pub fn distance_km(a: &Host, b: &Host) -> f64 {
    let dlat = b.lat_rad - a.lat_rad;
    let dlon = b.lon_rad - a.lon_rad;
    let h = (dlat / 2.0).sin().powi(2) + a.cos_lat * b.cos_lat * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// How recent the experience is: 1 within two years of `since_year`,
/// fading to 0 over the ten years after that; 0.5 when the year is unknown.
pub fn recency(since_year: Option<i32>, today: NaiveDate) -> f64 {
    match since_year {
        None => 0.5,
        Some(year) => {
            let years = f64::from(today.year() - year);
            (1.0 - (years - 2.0).max(0.0) / 10.0).clamp(0.0, 1.0)
        }
    }
}

/// Level counts most (level / 5); recent experience a quarter more than
/// old. Shown as a component; [`mastery`] is what orders.
pub fn maturity(level: u8, since_year: Option<i32>, today: NaiveDate) -> f64 {
    let base = f64::from(level.min(5)) / 5.0;
    base * (0.75 + 0.25 * recency(since_year, today))
}

/// Weight of recency in [`mastery`], in levels: old experience loses up to
/// a quarter of a level.
pub const RECENCY_LEVELS: f64 = 0.25;
/// Weight of proven quality in [`mastery`], in levels: from the worst
/// ratings to the best is one level; an unrated host sits in the middle.
pub const QUALITY_LEVELS: f64 = 1.0;
/// The highest mastery in levels (level 5, recent, best rated), which
/// [`mastery`] divides by to stay within 0..1.
pub const MASTERY_SCALE: f64 = 4.0 + RECENCY_LEVELS + QUALITY_LEVELS;
/// One level of mastery on the 0..1 scale (about 0.19).
pub const LEVEL: f64 = 1.0 / MASTERY_SCALE;

/// How good a host is at the topic, 0..1 (docs/matching.md): on the level
/// scale, the level above 1, plus up to a quarter level for recent
/// experience and up to a level for visitors' ratings (`quality`, 0..1),
/// divided by [`MASTERY_SCALE`].
///
/// A host a level ahead with ratings at least as good is therefore at
/// least three quarters of a level ahead, two levels ahead at least three
/// quarters of a level too: both more than the half level within which
/// hosts count as comparable.
pub fn mastery(level: u8, recency: f64, quality: f64) -> f64 {
    let level = f64::from(level.clamp(1, 5)) - 1.0;
    (level + RECENCY_LEVELS * recency.clamp(0.0, 1.0) + QUALITY_LEVELS * quality.clamp(0.0, 1.0))
        / MASTERY_SCALE
}

/// Visitors' standing for the host on the topic (a Bayesian average from
/// 1 to 5, see `domain::lesson::reputation`) as 0..1. With the default
/// neutral prior of 3, a host nobody has rated gets 0.5.
pub fn proven_quality(standing: &crate::domain::lesson::Reputation) -> f64 {
    if !standing.score.is_finite() {
        return 0.5;
    }
    ((standing.score - 1.0) / 4.0).clamp(0.0, 1.0)
}

/// Sizes that differ a hundredfold (or more) count as not similar at all.
const SIZE_SPAN: f64 = 100.0;

/// Same kind of organisation, and a similar size on a log scale (a town
/// learns more from a town than from a city). Sizes of different kinds
/// count different things and are not compared: another kind scores 0.
pub fn similarity(requester: &Host, host: &Host) -> f64 {
    if requester.kind != host.kind {
        return 0.0;
    }
    let ratio = ((host.size.max(0) as f64 + 1.0) / (requester.size.max(0) as f64 + 1.0)).ln();
    let size = (1.0 - ratio.abs() / SIZE_SPAN.ln()).max(0.0);
    0.4 + 0.6 * size
}

/// Halves every `half_km`: neighbours first, but a far host is not zero.
pub fn proximity(distance_km: f64, half_km: f64) -> f64 {
    0.5f64.powf(distance_km.max(0.0) / half_km)
}

/// The share of the host's visit slots over the horizon still free.
pub fn availability(capacity: u32, left: u32) -> f64 {
    if capacity == 0 {
        0.0
    } else {
        f64::from(left.min(capacity)) / f64::from(capacity)
    }
}

/// Halves every `half_visits` visits hosted recently, so that the same
/// star is not asked every time.
pub fn fairness(hosted_recently: u32, half_visits: f64) -> f64 {
    0.5f64.powf(f64::from(hosted_recently) / half_visits)
}
