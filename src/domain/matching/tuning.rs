//! The operator's knobs: the weights of the components that do not lead,
//! the requester's preference (which one leads), and the bands and
//! horizons of the model (`[matching]` settings, docs/matching.md).

use super::*;
use crate::domain::lesson::ReputationRules;
use crate::domain::Invalid;

/// How much each component counts among those that do not lead (the
/// leading one is chosen by the [`Preference`]). Any non-negative numbers:
/// only the proportions matter.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub mastery: f64,
    pub similarity: f64,
    pub proximity: f64,
    pub availability: f64,
    pub fairness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            mastery: 0.45,
            similarity: 0.15,
            proximity: 0.20,
            availability: 0.10,
            fairness: 0.10,
        }
    }
}

impl Weights {
    fn as_array(&self) -> [f64; 5] {
        [
            self.mastery,
            self.similarity,
            self.proximity,
            self.availability,
            self.fairness,
        ]
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if self.as_array().iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(Invalid::new(
                "matching weights must be finite numbers of at least 0",
            ));
        }
        Ok(())
    }
}

/// What the coordinator wants first; the other components order hosts
/// only within [`Preference::band`] of the leading one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Preference {
    /// The organisations best at the topic ([`mastery`]: level, recent
    /// experience and visitors' ratings).
    #[default]
    Best,
    /// The nearest ([`proximity`]), for whom cannot travel far.
    Near,
    /// The same kind and size of organisation ([`similarity`]).
    Similar,
}

impl Preference {
    pub const ALL: [Preference; 3] = [Preference::Best, Preference::Near, Preference::Similar];

    pub fn as_str(self) -> &'static str {
        match self {
            Preference::Best => "best",
            Preference::Near => "near",
            Preference::Similar => "similar",
        }
    }

    /// How far, in units of the leading component, the others can move a
    /// host. For `best` half a level of mastery: a host more than half a
    /// level ahead is never overtaken, whatever the distance or size.
    pub fn band(self) -> f64 {
        match self {
            Preference::Best => BEST_BAND,
            Preference::Near | Preference::Similar => 0.25,
        }
    }
}

/// Half a level of mastery.
pub const BEST_BAND: f64 = 0.5 * LEVEL;

impl std::str::FromStr for Preference {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        Preference::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| {
                Invalid::new(format!("prefer must be best, near or similar, not '{raw}'"))
            })
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
