//! JSON request bodies whose errors name the offending field
//! (`field 'size': invalid type: string "large", expected i64`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// Largest JSON body we read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body, parsed strictly; use instead of `web::Json`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                ApiError::bad_request("invalid_body", format!("cannot read the body: {e}"))
            })?;
            parse(&bytes).map(Json)
        })
    }
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "this request needs a JSON body",
        ));
    }
    // Every body is a JSON object. (serde would also build a struct from an
    // array of its fields in order, so `[]` would pass as an empty PATCH.)
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object ({…})",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = if path == "." {
            format!("the body is not valid: {inner}")
        } else {
            format!("field '{path}': {inner}")
        };
        ApiError::bad_request("invalid_body", detail)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        size: i64,
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse::<Body>(br#"{"size": "large"}"#).unwrap_err();
        assert!(err.to_string().contains("field 'size'"), "{err}");
        let err = parse::<Body>(br#"{"size": 1, "colour": 2}"#).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = parse::<Body>(b"").unwrap_err();
        assert!(err.to_string().contains("needs a JSON body"), "{err}");
        assert!(parse::<Body>(b"{").is_err());
        for not_an_object in [&b"[1]"[..], b"[]", b"null", b"1", b" \"x\""] {
            let err = parse::<Body>(not_an_object).unwrap_err();
            assert!(err.to_string().contains("JSON object"), "{err}");
        }
    }
}

/// For optional fields that, when present, must not be `null`:
/// `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// JSON Schema counts `3.0` as an integer; serde's `i64` does not. Fields
/// documented as integers deserialize through these so both agree.
pub mod integer {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    fn whole(n: serde_json::Number) -> Result<i64, String> {
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        match n.as_f64() {
            // Below 2^53 every whole float is exact.
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(format!("{n} is not a whole number in range")),
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        whole(serde_json::Number::deserialize(d)?).map_err(D::Error::custom)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(whole)
            .transpose()
            .map_err(D::Error::custom)
    }
}

/// The raw body, with read errors as problems; for endpoints that accept
/// more than one content type.
pub struct Raw(pub web::Bytes);

impl FromRequest for Raw {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            bytes.await.map(Raw).map_err(|e| {
                ApiError::bad_request("invalid_body", format!("cannot read the body: {e}"))
            })
        })
    }
}
