//! Strict query-string parsing: unknown, repeated and malformed parameters
//! get a 400 that names the parameter, instead of being ignored.

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
/// accepts, so the document and the parser cannot drift apart.
pub fn documented<P: IntoParams>() -> Vec<String> {
    P::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

impl QueryParams {
    /// [`QueryParams::parse`] with the parameters `P` documents.
    pub fn of<P: IntoParams>(req: &HttpRequest) -> Result<Self, ApiError> {
        Self::named(req, &documented::<P>())
    }

    /// [`QueryParams::parse`] with owned names (several documented sets).
    pub fn named(req: &HttpRequest, names: &[String]) -> Result<Self, ApiError> {
        let allowed: Vec<&str> = names.iter().map(String::as_str).collect();
        Self::parse(req, &allowed)
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
