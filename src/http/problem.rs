//! The error edge: every failure leaves as `application/problem+json`
//! (RFC 9457). Its `type` names the kind of problem (`/problems#day_taken`,
//! explained on that page); the `code` extension member repeats the
//! fragment for clients that read it. A refusal's `detail` is in the
//! language `Accept-Language` prefers ([`localise`]).

use crate::http::ApiResult;
use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::organisation::Language;
use crate::domain::refusal::{Explain, Kind, Refusal};
use crate::domain::Invalid;
use crate::service::ServiceError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// The kind of problem: a reference to its explanation on the
    /// `/problems` page, one per code.
    #[serde(rename = "type")]
    #[schema(example = "/problems#day_taken")]
    pub problem_type: String,
    /// The HTTP status phrase.
    #[schema(example = "Bad Request")]
    pub title: String,
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong, for a person.
    #[schema(example = "limit must be a whole number from 1 to 100, not 'ten'")]
    pub detail: String,
    /// The fragment of `type` (an RFC 9457 extension member, kept for
    /// clients of the first version; not in the schema, whose members the
    /// NL API Design Rules fix).
    #[schema(ignore)]
    pub code: &'static str,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Kept to render `detail` again in the caller's language.
    refusal: Option<Box<Refusal>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            headers: Vec::new(),
            refusal: None,
        }
    }

    /// A use case's refusal; `detail` in Dutch until [`localise`] renders
    /// it in the caller's language.
    pub fn refused(refusal: Refusal) -> Self {
        let mut e = Self::new(
            status_of(refusal.kind()),
            refusal.code(),
            refusal.message(Language::Nl),
        );
        if refusal.kind() == Kind::Unauthorized {
            e.headers.push(challenge());
        }
        e.refusal = Some(Box::new(refusal));
        e
    }

    /// The stable code, for tests and logs.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn response(&self, detail: String, language: Option<Language>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(language) = language {
            response.insert_header((header::CONTENT_LANGUAGE, language.as_str()));
        }
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(
            serde_json::to_string(&Problem {
                problem_type: type_path(self.code),
                title: self
                    .status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .to_string(),
                status: self.status.as_u16(),
                detail,
                code: self.code,
            })
            .unwrap_or_default(),
        )
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
        e.headers.push(challenge());
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
        let language = self.refusal.as_ref().map(|_| Language::Nl);
        self.response(self.detail.clone(), language)
    }
}

/// The HTTP status of a kind of refusal, for the API and for pages.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Invalid => StatusCode::BAD_REQUEST,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
    }
}

/// The path of a problem type, relative to the service: RFC 9457's `type`
/// member names the kind of problem, and the page there explains it.
pub fn type_path(code: &str) -> String {
    format!("/problems#{code}")
}

/// RFC 6750's challenge on every 401.
fn challenge() -> (header::HeaderName, HeaderValue) {
    (
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"meeloop\""),
    )
}

/// Middleware: renders a refusal's `detail` again in the language the
/// request's `Accept-Language` prefers (Dutch when it names neither). The
/// headers other middleware added stay.
pub async fn localise<B>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error>
where
    B: actix_web::body::MessageBody + 'static,
{
    let language = super::lang::preferred(req.request());
    let response = next.call(req).await?;
    let again = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .and_then(|e| {
            let refusal = e.refusal.as_ref()?;
            (language != Language::Nl)
                .then(|| e.response(refusal.message(language), Some(language)))
        });
    Ok(match again {
        Some(mut localised) => {
            // Keep what middleware inside this one added (rate-limit headers).
            for (name, value) in response.headers() {
                if !localised.headers().contains_key(name) && name != header::CONTENT_LENGTH {
                    localised.headers_mut().insert(name.clone(), value.clone());
                }
            }
            response.into_response(localised).map_into_right_body()
        }
        None => response.map_into_left_body(),
    })
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(invalid) => {
                ApiError::bad_request("invalid_request", invalid.to_string())
            }
            ServiceError::Refused(refusal) => ApiError::refused(refusal),
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
pub async fn no_route(req: HttpRequest) -> ApiResult {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("there is nothing at {}", req.path()),
    ))
}

/// Fallback for a known path with a method it does not have (`Allow` says which).
pub fn method_not_allowed(
    allow: impl Into<String>,
) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    let allow: std::sync::Arc<str> = allow.into().into();
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
        e.headers.push((
            header::ALLOW,
            HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("")),
        ));
        std::future::ready(Err(e))
    }
}

/// The problems the HTTP edge itself reports (the refusals come from
/// `domain::refusal`): code, status, and what it means in Dutch and English.
pub const EDGE_PROBLEMS: &[(&str, u16, &str, &str)] = &[
    (
        "invalid_request",
        400,
        "Een veld heeft een waarde die niet kan; de uitleg noemt het veld.",
        "A field's value is not acceptable; the detail names the field.",
    ),
    (
        "invalid_body",
        400,
        "De inhoud is geen JSON (of formulier) van de goede vorm.",
        "The body is not JSON (or form data) of the right shape.",
    ),
    (
        "invalid_field",
        400,
        "Een genoemd veld ontbreekt of klopt niet.",
        "A named body field is missing or malformed.",
    ),
    (
        "invalid_parameter",
        400,
        "Een genoemde queryparameter klopt niet of staat er twee keer.",
        "A named query parameter is malformed or repeated.",
    ),
    (
        "invalid_query",
        400,
        "De querystring is niet te lezen.",
        "The query string cannot be read.",
    ),
    (
        "missing_parameter",
        400,
        "Een verplichte queryparameter ontbreekt.",
        "A required query parameter is absent.",
    ),
    (
        "unknown_parameter",
        400,
        "Een queryparameter die deze route niet kent.",
        "A query parameter the route does not know.",
    ),
    (
        "unsupported_grant_type",
        400,
        "Het tokenendpoint kent alleen client_credentials.",
        "The token endpoint only knows client_credentials.",
    ),
    (
        "unauthorized",
        401,
        "Geen token, of een dat niet te controleren is.",
        "No token, or one that cannot be verified.",
    ),
    (
        "not_found",
        404,
        "Op dit pad staat niets.",
        "There is nothing at this path.",
    ),
    (
        "method_not_allowed",
        405,
        "Dit pad bestaat, maar niet met deze methode (Allow noemt ze).",
        "The path exists without this method (Allow lists them).",
    ),
    (
        "request_timeout",
        408,
        "De inhoud kwam niet op tijd binnen.",
        "The body did not arrive in time.",
    ),
    (
        "too_many_requests",
        429,
        "Te veel verzoeken; Retry-After zegt hoe lang te wachten.",
        "Too many requests; Retry-After says how long to wait.",
    ),
    (
        "internal_error",
        500,
        "Onze fout; hij staat in het log bij het request-id.",
        "Our fault; it is logged with the request id.",
    ),
    (
        "unavailable",
        503,
        "De database is even niet bereikbaar; probeer het zo opnieuw.",
        "The database is briefly out of reach; try again shortly.",
    ),
];

/// One kind of problem, as the `/problems` page and the OpenAPI document
/// list it.
pub struct ProblemType {
    pub code: &'static str,
    pub status: u16,
    /// What it means (edge problems) or an example (refusals).
    pub nl: String,
    pub en: String,
}

/// Every problem type the API can answer with: the edge's, then every
/// refusal's (with an example message).
pub fn problem_types() -> Vec<ProblemType> {
    let edge = EDGE_PROBLEMS
        .iter()
        .map(|&(code, status, nl, en)| ProblemType {
            code,
            status,
            nl: nl.into(),
            en: en.into(),
        });
    let refusals = Refusal::examples().into_iter().map(|r| ProblemType {
        code: r.code(),
        status: status_of(r.kind()).as_u16(),
        nl: r.message(Language::Nl),
        en: r.message(Language::En),
    });
    edge.chain(refusals).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_type_and_status() {
        let e = ApiError::refused(crate::domain::refusal::VisitRefusal::AlreadyAnswered.into());
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(type_path(e.code()), "/problems#already_answered");
    }

    #[test]
    fn the_documentation_lists_every_problem_type_with_its_status() {
        let doc = include_str!("../../docs/problems.md");
        let mut seen = std::collections::HashSet::new();
        for t in problem_types() {
            assert!(seen.insert(t.code), "{} twice", t.code);
            let row = format!("| `{}` | {} |", t.code, t.status);
            assert!(doc.contains(&row), "docs/problems.md lacks the row {row}");
        }
        let rows = doc.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(
            rows,
            seen.len(),
            "docs/problems.md lists a code that does not exist"
        );
    }
}
