//! Access and portability (AVG art. 15 and 20): everything Meeloop holds
//! about a person or an organisation, for admins, and for every account its
//! own (docs/privacy.md). Each export is audited and rate-limited.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::route;
use actix_web::{web, HttpResponse};
use utoipa::IntoParams;

use crate::domain::account::UserId;
use crate::domain::organisation::{Language, OrganisationId};
use crate::http::call::Call;
use crate::http::extract::{AdminUser, CurrentUser};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::path;
use crate::http::responses::{AdminOnly, BadId, BadQuery, Guarded};
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
    responses(
        (status = 200, description = "The archive, as a download", content(
            (Object = "application/json"),
            (String = "text/plain"),
        )),
        BadQuery,
        Guarded,
    )
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
        (status = 200, description = "The archive, as a download", content(
            (Object = "application/json"),
            (String = "text/plain"),
        )),
        BadId,
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/users/{id}/export", method = "GET", method = "HEAD")]
pub async fn user_export(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    let id: UserId = path("id", &id, str::parse)?;
    let text = format(&call)?;
    let whose = Whose::User(id);
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
        (status = 200, description = "The archive, as a download", content(
            (Object = "application/json"),
            (String = "text/plain"),
        )),
        BadId,
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/organisations/{id}/export", method = "GET", method = "HEAD")]
pub async fn organisation_export(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    let id: OrganisationId = path("id", &id, str::parse)?;
    let text = format(&call)?;
    let whose = Whose::Organisation(id);
    let limiter = &call.state().export_limiter;
    let export =
        privacy::export_for_admin(call.ctx(), admin.0, call.client(), whose, limiter).await?;
    Ok(attachment(&export, text, call.lang(), whose.slug())?)
}
