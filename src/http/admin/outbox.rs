//! Admins watch the mail queue and requeue dead messages. Bodies are never
//! shown: they may hold single-use links.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::{post, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::parse_before;
use crate::domain::mail::MessageState;
use crate::domain::mail::MessageSummary as Summary;
use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::http::extract::AdminUser;
use crate::http::problem::Problem;
use crate::http::query::{path, positive_id};
use crate::http::responses::{AdminOnly, BadId, BadQuery};
use crate::service::mail;

/// A queued, sent or dead email.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessageView {
    pub id: i64,
    #[schema(example = "contact@zwolle.nl")]
    pub recipient: String,
    #[schema(example = "nl")]
    pub language: String,
    /// Which email this is, e.g. `test` or `invitation`.
    #[schema(example = "test")]
    pub template: String,
    pub subject: String,
    #[schema(value_type = String, example = "pending")]
    pub state: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When a pending message is tried next.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<Summary> for OutboxMessageView {
    fn from(m: Summary) -> Self {
        OutboxMessageView {
            id: m.id,
            recipient: m.recipient,
            language: m.language,
            template: m.template,
            subject: m.subject,
            state: m.state.to_string(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.and_utc(),
            last_error: m.last_error,
            created_at: m.created_at.and_utc(),
            sent_at: m.sent_at.map(|t| t.and_utc()),
        }
    }
}

/// Messages per state.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub dead: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxPage {
    pub counts: OutboxCounts,
    /// When the oldest message still waiting was queued; absent when none waits.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    /// Newest first.
    pub items: Vec<OutboxMessageView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only messages in this state.
    #[param(inline, value_type = Option<String>, pattern = "^(pending|sending|sent|dead)$")]
    pub state: Option<String>,
    /// Only messages older than this id (the `nextBefore` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// The mail queue
///
/// Counts per state (pending, sending, sent, dead) and the messages newest
/// first, without their bodies. Filter with `state`. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    params(OutboxParams),
    responses(
        (status = 200, description = "The queue's counts and a page of messages", body = OutboxPage),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/outbox", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    let params = call.query::<OutboxParams>()?;
    let message_state = params.get("state", |raw| raw.parse::<MessageState>())?;
    let before = params.get("before", parse_before)?;
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let (status, items, next_before) =
        mail::outbox_page(call.ctx(), admin.0, message_state, before, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(OutboxPage {
            counts: OutboxCounts {
                pending: status.count(MessageState::Pending),
                sending: status.count(MessageState::Sending),
                sent: status.count(MessageState::Sent),
                dead: status.count(MessageState::Dead),
            },
            oldest_waiting_since: status.oldest_waiting.map(|w| utc(w.queued_at)),
            items: items.into_iter().map(OutboxMessageView::from).collect(),
            next_before,
        }))
}

/// Requeue a dead message
///
/// Gives a dead message a fresh set of delivery attempts, due now. Refused with
/// `not_dead` for a message in any other state. Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    params(("id" = i64, Path, description = "Outbox message id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The message, pending again", body = OutboxMessageView),
        BadId,
        (status = 404, description = "No such message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is not dead", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/outbox/{id}/requeue")]
pub async fn requeue(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let message = mail::requeue(call.ctx(), admin.0, call.client(), id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(OutboxMessageView::from(message)))
}
