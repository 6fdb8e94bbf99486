//! A match request as asked: who it is for, and its parameters parsed
//! and checked.

use chrono::NaiveDate;

use super::Preference;
use crate::domain::organisation::{OrganisationId, OrganisationKind};
use crate::domain::topic::TopicId;
use crate::domain::Invalid;

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
    /// What leads the order.
    pub preference: Preference,
    /// Maturity counts recent experience more; "recent" is relative to this day.
    pub today: NaiveDate,
}

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 50;

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
