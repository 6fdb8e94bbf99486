//! JSON request bodies whose errors name the offending field
//! (`field 'size': invalid type: string "large", expected i64`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use crate::domain::{storable, Invalid};

/// Largest JSON body we read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a body that did not arrive in time is told (the body deadline in
/// `app` fails the payload with this; the extractors answer 408).
pub const BODY_TIMED_OUT: &str = "the request body did not arrive in time";

/// A JSON body, parsed strictly; use instead of `web::Json`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(unreadable)?;
            parse(&bytes).map(Json)
        })
    }
}

/// A JSON body that is looked at only once the caller is known to be
/// allowed to act: whoever may not (a stranger to a visit, a coordinator on
/// an admin route) gets the same 403 or 404 whatever they send, so a body
/// tells nobody whether the resource exists or what would pass. Handlers
/// take it as `body.after(access check).await?`, then validate its fields.
pub struct Body<T>(Result<T, ApiError>);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            Ok(Body(match bytes.await {
                Ok(bytes) => parse(&bytes),
                Err(e) => Err(unreadable(e)),
            }))
        })
    }
}

impl<T> Body<T> {
    /// The refusal of `access` if there is one, else the body or its problem.
    pub async fn after<E>(self, access: impl Future<Output = Result<(), E>>) -> Result<T, ApiError>
    where
        ApiError: From<E>,
    {
        access.await?;
        self.0
    }

    /// The body or its problem, for a handler whose extractors (such as
    /// `AdminUser`) already refused everyone who may not act. (With
    /// [`Json`] the two would race: which error comes first is not fixed.)
    pub fn admitted(self) -> Result<T, ApiError> {
        self.0
    }
}

/// A body that could not be read: too slow (408, see `app::body_deadline`)
/// or broken (400).
fn unreadable(e: actix_web::Error) -> ApiError {
    use actix_web::error::PayloadError;
    let timed_out = matches!(
        e.as_error::<PayloadError>(),
        Some(PayloadError::Io(io)) if io.kind() == std::io::ErrorKind::TimedOut
    );
    if timed_out {
        ApiError::request_timeout(format!("{}; send it faster, or in one go", BODY_TIMED_OUT))
    } else {
        ApiError::bad_request("invalid_body", format!("cannot read the body: {e}"))
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
    // JSON can carry U+0000 only as the escape \u0000: look closer only then.
    if bytes.windows(5).any(|w| w == b"u0000") {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some((path, why)) = unstorable(&value, String::new()) {
                return Err(ApiError::invalid_field(&path, &why));
            }
        }
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

/// The first text in a JSON value (a key or a string) that cannot be
/// stored, with its path as serde_path_to_error writes it (`a.b[0]`).
fn unstorable(value: &serde_json::Value, path: String) -> Option<(String, Invalid)> {
    use serde_json::Value;
    let here = || {
        if path.is_empty() {
            ".".to_string()
        } else {
            path.clone()
        }
    };
    match value {
        Value::String(s) => storable(s).err().map(|e| (here(), e)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| unstorable(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match storable(k) {
                Err(e) => Some((at.escape_default().to_string(), e)),
                Ok(()) => unstorable(v, at),
            }
        }),
        _ => None,
    }
}

/// An `application/x-www-form-urlencoded` body: refused whole when a value
/// cannot be stored, naming the field.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).map_err(|e| {
        ApiError::bad_request("invalid_body", format!("the form is not valid: {e}"))
    })?;
    if let Some((name, why)) = crate::domain::unstorable_field(&pairs) {
        return Err(ApiError::invalid_field(
            &name.escape_default().to_string(),
            &why,
        ));
    }
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("the form is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_cannot_be_stored_is_refused_naming_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Token {
            client_id: String,
            nested: Option<Vec<String>>,
        }
        let err = parse::<Token>(br#"{"client_id": "mp_\u0000"}"#).unwrap_err();
        assert!(err.to_string().contains("field 'client_id'"), "{err}");
        assert!(err.to_string().contains("U+0000"), "{err}");
        let err =
            parse::<Token>(br#"{"client_id": "a", "nested": ["ok", "x\u0000"]}"#).unwrap_err();
        assert!(err.to_string().contains("field 'nested[1]'"), "{err}");
        // A backslash followed by "u0000" is text, not NUL.
        assert!(parse::<Token>(br#"{"client_id": "\\u0000"}"#).is_ok());
        let err = parse_form::<Token>(b"client_id=mp_%00").unwrap_err();
        assert!(err.to_string().contains("field 'client_id'"), "{err}");
        assert!(parse_form::<Token>(b"client_id=mp_1").is_ok());
    }

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
        Box::pin(async move { bytes.await.map(Raw).map_err(unreadable) })
    }
}
