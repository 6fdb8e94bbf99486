//! Strict query-string parsing: unknown, repeated and malformed parameters
//! get a 400 that names the parameter, instead of being ignored.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use actix_web::HttpRequest;
use utoipa::openapi::path::ParameterIn;
use utoipa::IntoParams;

use super::problem::ApiError;
use crate::domain::Invalid;

pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

/// The query parameters an `IntoParams` type documents (the types in an
/// operation's `#[utoipa::path(params(…))]`): the only ones the operation
/// accepts, so the document and the parser cannot drift apart. Read from
/// utoipa once per type, not on every request.
pub fn documented<P: IntoParams + 'static>() -> &'static [&'static str] {
    type Names = HashMap<TypeId, &'static [&'static str]>;
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    names.entry(TypeId::of::<P>()).or_insert_with(|| {
        let read: Vec<&'static str> = P::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .map(|p| &*Box::leak(p.name.into_boxed_str()))
            .collect();
        Box::leak(read.into_boxed_slice())
    })
}

impl QueryParams {
    /// [`QueryParams::parse`] with the parameters `P` documents.
    pub fn of<P: IntoParams + 'static>(req: &HttpRequest) -> Result<Self, ApiError> {
        Self::parse(req, documented::<P>())
    }

    /// [`QueryParams::parse`] with several documented sets.
    pub fn named(req: &HttpRequest, sets: &[&[&str]]) -> Result<Self, ApiError> {
        Self::parse(req, &sets.concat())
    }

    pub fn parse(req: &HttpRequest, allowed: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).map_err(|e| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("cannot read the query string: {e}"),
                )
            })?;
        for (i, (name, value)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                let allowed = if allowed.is_empty() {
                    "this endpoint takes no query parameters".to_string()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(ApiError::bad_request(
                    "unknown_parameter",
                    format!("unknown query parameter '{name}'; {allowed}"),
                ));
            }
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("query parameter '{name}' is given more than once"),
                ));
            }
            crate::domain::storable(value).map_err(|e| ApiError::invalid_parameter(name, &e))?;
        }
        Ok(QueryParams { pairs })
    }

    /// Parses parameter `name` with `parse` when present.
    pub fn get<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<Option<T>, ApiError> {
        match self.pairs.iter().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, value)) => parse(value)
                .map(Some)
                .map_err(|e| ApiError::invalid_parameter(name, &e)),
        }
    }
}

/// Parses a path segment such as an id, naming it in the error.
pub fn path<T>(
    name: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| ApiError::invalid_parameter(name, &e))
}

/// A database id in a path: a positive whole number.
pub fn positive_id(raw: &str) -> Result<i64, Invalid> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Invalid::new(format!(
            "the id must be a positive whole number, not '{raw}'"
        ))),
    }
}

/// A page cursor: the `nextBefore` of the previous page.
pub(crate) fn parse_before(raw: &str) -> Result<i64, Invalid> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Invalid::new(format!(
            "before must be a positive whole number, not '{raw}'"
        ))),
    }
}
