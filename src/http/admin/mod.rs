//! Admin-only routes: the audit log here, management of organisations,
//! topics, accounts and partner clients in the submodules.

pub mod organisations;
pub mod outbox;
pub mod partners;
pub mod sso;
pub mod topics;
pub mod users;
pub mod webhooks;

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::route;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::http::extract::CurrentUser;
use crate::http::responses::{AdminOnly, BadQuery};
use crate::service::admin;

/// A security event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `user:<id>`, `anonymous` or `cli`.
    #[schema(example = "user:3")]
    pub actor: String,
    #[schema(example = "login.failed")]
    pub action: String,
    /// The client address, when the event came over HTTP.
    pub address: Option<String>,
    /// What the event was about, e.g. `organisation:12`.
    pub subject: Option<String>,
    /// What changed. Never passwords, hashes or tokens.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries older than this id (the `nextBefore` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

pub(crate) use crate::http::query::parse_before;

/// The audit log
///
/// Security events newest first: logins and failed logins, token requests,
/// account, partner, organisation and topic changes, with actor, subject,
/// client address and details. Admins only; pages with `before` (the `next`
/// cursor of the previous page).
#[utoipa::path(
    get,
    tag = "admin",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of security events", body = AuditPage),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/audit", method = "GET", method = "HEAD")]
pub async fn audit(call: Call, user: CurrentUser) -> ApiResult {
    let params = call.query::<AuditParams>()?;
    let before = params.get("before", parse_before)?;
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let (entries, next_before) = admin::audit_log(call.ctx(), user.0, before, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AuditPage {
            items: entries
                .into_iter()
                .map(|e| AuditEntryView {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    address: e.address,
                    subject: e.subject,
                    details: e.details,
                })
                .collect(),
            next_before,
        }))
}
