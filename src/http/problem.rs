//! The error edge: every failure leaves as `application/problem+json`
//! (RFC 9457) with a stable machine-readable `code`.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Invalid;
use crate::service::ServiceError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` identifies the problem.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: &'static str,
    /// The HTTP status phrase.
    #[schema(example = "Bad Request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong, for a person.
    #[schema(example = "limit must be a whole number from 1 to 100, not 'ten'")]
    pub detail: String,
    /// Stable identifier for programs, e.g. `invalid_parameter`.
    #[schema(example = "invalid_parameter")]
    pub code: &'static str,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// 408: the body did not arrive in time; the connection is closed
    /// after the answer (what is left of the body is never read).
    pub fn request_timeout(detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", detail);
        e.headers
            .push((header::CONNECTION, HeaderValue::from_static("close")));
        e
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn invalid_field(name: &str, why: &Invalid) -> Self {
        Self::bad_request("invalid_field", format!("field '{name}': {why}"))
    }

    /// For `map_err`: the named body field is invalid.
    pub fn field(name: &'static str) -> impl Fn(Invalid) -> ApiError {
        move |e| ApiError::invalid_field(name, &e)
    }

    pub fn invalid_parameter(name: &str, why: &Invalid) -> Self {
        Self::bad_request("invalid_parameter", format!("parameter '{name}': {why}"))
    }

    /// 401 with the `WWW-Authenticate` challenge RFC 6750 asks for.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
        e.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"meeloop\""),
        ));
        e
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many requests; try again in {retry_after_secs} seconds"),
        );
        e.headers
            .push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs)));
        e
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.as_u16(),
            self.code,
            self.detail
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(
            serde_json::to_string(&Problem {
                problem_type: "about:blank",
                title: self
                    .status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .to_string(),
                status: self.status.as_u16(),
                detail: self.detail.clone(),
                code: self.code,
            })
            .unwrap_or_default(),
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(invalid) => ApiError::bad_request("invalid_request", invalid.0),
            ServiceError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "not_found", what),
            ServiceError::Unauthorized(why) => ApiError::unauthorized(why),
            ServiceError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
            ServiceError::Conflict(what) => ApiError::new(StatusCode::CONFLICT, "conflict", what),
            ServiceError::RateLimited(secs) => ApiError::too_many_requests(secs),
            ServiceError::Unavailable(source) => {
                tracing::error!(error = %source, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service is temporarily unavailable; try again shortly",
                )
            }
            ServiceError::Internal(source) => {
                // The whole cause chain goes to the log, never to the client.
                tracing::error!(error = ?source, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

/// Fallback for paths that match no route.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("there is nothing at {}", req.path()),
    ))
}

/// Fallback for a known path with a method it does not have (`Allow` says which).
pub fn method_not_allowed(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    move |req: HttpRequest| {
        let mut e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} is not allowed on {}; allowed: {allow}",
                req.method(),
                req.path()
            ),
        );
        e.headers
            .push((header::ALLOW, HeaderValue::from_static(allow)));
        std::future::ready(Err(e))
    }
}
