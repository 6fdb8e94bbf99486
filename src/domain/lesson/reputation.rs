//! A host's standing on a topic from its visitors' ratings: a Bayesian
//! mean that forgets slowly (docs/lessons.md, "Reputation").

use chrono::NaiveDate;

use crate::domain::Invalid;

/// The knobs of the reputation formula (`[matching.reputation]`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationRules {
    /// The rating every host starts from (1 to 5); 3 is neutral.
    pub prior_mean: f64,
    /// How many ratings the prior is worth: the larger, the more visits
    /// it takes before a host's own ratings dominate.
    pub prior_weight: f64,
    /// A rating counts half after this many days, a quarter after twice as
    /// many: recent experience counts more.
    pub half_life_days: f64,
}

impl Default for ReputationRules {
    fn default() -> Self {
        ReputationRules {
            prior_mean: 3.0,
            prior_weight: 3.0,
            half_life_days: 730.0,
        }
    }
}

impl ReputationRules {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1.0..=5.0).contains(&self.prior_mean) {
            return Err(Invalid::new(
                "matching.reputation.prior_mean must be 1 to 5",
            ));
        }
        if !(self.prior_weight.is_finite() && self.prior_weight > 0.0) {
            return Err(Invalid::new(
                "matching.reputation.prior_weight must be above 0",
            ));
        }
        if !(self.half_life_days.is_finite() && self.half_life_days > 0.0) {
            return Err(Invalid::new(
                "matching.reputation.half_life_days must be above 0",
            ));
        }
        Ok(())
    }
}

/// A visitor's rating of a host on a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rated {
    pub rating: u8,
    pub hours_saved: i32,
    /// The day of the visit.
    pub on: NaiveDate,
}

/// A host's standing on one topic, from its visitors' lessons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reputation {
    /// The Bayesian average (1 to 5): the prior and the decayed ratings.
    pub score: f64,
    /// Rated visits (the visitors' lessons).
    pub visits: u32,
    /// Their plain average (0 without ratings).
    pub mean_rating: f64,
    /// The hours those visitors say the visits saved.
    pub hours_saved: i64,
    /// Lessons on this host and topic in the knowledge base (either side).
    pub published: u32,
}

impl Reputation {
    /// A host nobody has rated yet: the prior.
    pub fn unrated(rules: &ReputationRules) -> Reputation {
        Reputation {
            score: rules.prior_mean,
            visits: 0,
            mean_rating: 0.0,
            hours_saved: 0,
            published: 0,
        }
    }
}

/// `(w × prior_mean + Σ dᵢ × ratingᵢ) / (w + Σ dᵢ)` with `dᵢ = ½^(ageᵢ /
/// half_life)`: the prior counts as `w` ratings, and a rating loses half
/// its weight every `half_life_days`. Ratings from the future count fully.
pub fn reputation(rated: &[Rated], rules: &ReputationRules, today: NaiveDate) -> Reputation {
    let mut weight = 0.0;
    let mut weighted = 0.0;
    let mut sum = 0u32;
    let mut hours = 0i64;
    for r in rated {
        let age = (today - r.on).num_days().max(0) as f64;
        let decay = 0.5f64.powf(age / rules.half_life_days);
        weight += decay;
        weighted += decay * f64::from(r.rating);
        sum += u32::from(r.rating);
        hours += i64::from(r.hours_saved);
    }
    let visits = rated.len() as u32;
    Reputation {
        score: (rules.prior_weight * rules.prior_mean + weighted) / (rules.prior_weight + weight),
        visits,
        mean_rating: if visits == 0 {
            0.0
        } else {
            f64::from(sum) / f64::from(visits)
        },
        hours_saved: hours,
        published: 0,
    }
}
