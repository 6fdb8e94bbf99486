//! Access and portability (AVG art. 15 and 20): everything Meeloop holds
//! about a person or an organisation, for admins, and for every account its
//! own (docs/privacy.md). Each export is audited and rate-limited.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::{post, route};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::IntoParams;
use utoipa::ToSchema;

use crate::domain::organisation::Language;
use crate::http::body::Body;
use crate::http::call::Call;
use crate::http::extract::{AdminUser, CurrentUser};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadId, BadQuery, BodyLimits, Guarded};
use crate::http::ApiResult;
use crate::service::privacy::{self, Export, Whose};

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (the default: the database rows about the subject, table by
    /// table, without secrets or email bodies) or `text` (the same for
    /// people, in the `Accept-Language` language).
    #[param(inline, value_type = Option<String>, pattern = "^(json|text)$")]
    pub format: Option<String>,
}

/// The 200 of an export: the archive as JSON or as text, a download.
pub struct Archive;

impl utoipa::IntoResponses for Archive {
    fn responses() -> std::collections::BTreeMap<String, RefOr<Response>> {
        let of = |kind| {
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(kind)))
                .build()
        };
        let archive = ResponseBuilder::new()
            .description("The archive, as a download")
            .content("application/json", of(Type::Object))
            .content("text/plain", of(Type::String))
            .build();
        std::collections::BTreeMap::from([("200".to_string(), archive.into())])
    }
}

/// `json` or `text`, from the query string.
fn format(call: &Call) -> Result<bool, ApiError> {
    let params = call.query::<ExportParams>()?;
    let text = params.get("format", |raw| match raw {
        "json" => Ok(false),
        "text" => Ok(true),
        other => Err(crate::domain::Invalid::new(format!(
            "format must be json or text, not '{other}'"
        ))),
    })?;
    Ok(text.unwrap_or(false))
}

/// The archive as a download (the API's and the pages').
pub fn attachment(
    export: &Export,
    text: bool,
    language: Language,
    slug: String,
) -> Result<HttpResponse, crate::service::ServiceError> {
    let day = export.generated_at.format("%Y-%m-%d");
    let (content_type, body, extension) = if text {
        (
            "text/plain; charset=utf-8",
            export.readable(language),
            "txt",
        )
    } else {
        let json = serde_json::to_string_pretty(export)
            .map_err(|e| crate::service::ServiceError::Internal(e.into()))?;
        ("application/json", json, "json")
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"meeloop-{slug}-{day}.{extension}\""),
        ))
        .body(body))
}

/// Your own data
///
/// Everything Meeloop holds about the caller: the account, the visits they
/// asked for, the lessons they wrote, security log entries about them,
/// emails sent to them (without their content) and every other row that
/// mentions their name or address. At most five at once, then one a minute.
#[utoipa::path(
    get,
    tag = "privacy",
    params(ExportParams),
    responses(Archive, BadQuery, Guarded,)
)]
#[route("/me/export", method = "GET", method = "HEAD")]
pub async fn own_export(call: Call, user: CurrentUser) -> ApiResult {
    let text = format(&call)?;
    let limiter = &call.state().export_limiter;
    let export = privacy::export_own(call.ctx(), user.0, call.client(), limiter).await?;
    Ok(attachment(&export, text, call.lang(), "my-data".into())?)
}

/// A person's data
///
/// What `GET /me/export` gives that account, for an admin answering a
/// subject-access request. Admins only; audited.
#[utoipa::path(
    get,
    tag = "privacy",
    params(
        ("id" = i64, Path, description = "User id", minimum = 1, maximum = 9223372036854775807_i64),
        ExportParams,
    ),
    responses(
        Archive,
        BadId,
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/users/{id}/export", method = "GET", method = "HEAD")]
pub async fn user_export(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    admin_export(call, Whose::User(path("id", &id, str::parse)?), admin).await
}

/// What the two admins' exports share, once the subject is known.
async fn admin_export(call: Call, whose: Whose, admin: AdminUser) -> ApiResult {
    let text = format(&call)?;
    let limiter = &call.state().export_limiter;
    let export =
        privacy::export_for_admin(call.ctx(), admin.0, call.client(), whose, limiter).await?;
    Ok(attachment(&export, text, call.lang(), whose.slug())?)
}

/// An organisation's data
///
/// Everything about an organisation: its entry and expertise, its accounts,
/// visits on either side, the lessons it wrote, follow-ups, security log
/// entries, emails to its addresses (without content) and the links it was
/// sent. Admins only; audited.
#[utoipa::path(
    get,
    tag = "privacy",
    params(
        ("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64),
        ExportParams,
    ),
    responses(
        Archive,
        BadId,
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/organisations/{id}/export", method = "GET", method = "HEAD")]
pub async fn organisation_export(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    admin_export(
        call,
        Whose::Organisation(path("id", &id, str::parse)?),
        admin,
    )
    .await
}

/// The confirmation an erasure needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The account's email address, or the organisation's code, typed again.
    #[schema(max_length = 254, example = "femke@sudwestfryslan.example")]
    pub confirm: String,
}

/// What the two erasures share, once the subject is known.
async fn erase(call: Call, whose: Whose, admin: AdminUser, body: Body<EraseRequest>) -> ApiResult {
    call.no_query()?;
    let confirm = body.admitted()?.confirm;
    let (ctx, limiter) = (call.ctx(), &call.state().export_limiter);
    let erased = privacy::erase_for_admin(ctx, admin.0, call.client(), whose, &confirm, limiter);
    let erased = erased.await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(erased))
}

/// Erase a person
///
/// AVG art. 17: the person's name and address disappear from every table
/// and mail file; the account stays as "verwijderde gebruiker" without
/// address or password, so visit counts, reputation and published lessons
/// stay true. `confirm` must repeat the account's address. Not one's own
/// account. Admins only; audited without the identity.
#[utoipa::path(
    post,
    tag = "privacy",
    params(("id" = i64, Path, description = "User id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased", body = crate::domain::privacy::Erased),
        (status = 400, description = "A malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`confirm` does not repeat the account's address (`not_confirmed`), or it is one's own account", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        AdminOnly,
    )
)]
#[post("/admin/users/{id}/erasure")]
pub async fn user_erasure(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<EraseRequest>,
) -> ApiResult {
    erase(call, Whose::User(path("id", &id, str::parse)?), admin, body).await
}

/// Erase an organisation's personal data
///
/// Its contact address goes and every account it has is erased as a
/// person's is; the organisation, its visits, expertise and lessons stay.
/// `confirm` must repeat its code. Admins only; audited.
#[utoipa::path(
    post,
    tag = "privacy",
    params(("id" = i64, Path, description = "Organisation id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased", body = crate::domain::privacy::Erased),
        (status = 400, description = "A malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`confirm` does not repeat the organisation's code (`not_confirmed`)", body = Problem, content_type = "application/problem+json"),
        BodyLimits,
        AdminOnly,
    )
)]
#[post("/admin/organisations/{id}/erasure")]
pub async fn organisation_erasure(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<EraseRequest>,
) -> ApiResult {
    erase(
        call,
        Whose::Organisation(path("id", &id, str::parse)?),
        admin,
        body,
    )
    .await
}
