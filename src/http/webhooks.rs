//! Partners' webhook endpoints (scope `webhooks:manage`; docs/webhooks.md)
//! and the views admins share (`admin::webhooks`).

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::http::header::LOCATION;
use actix_web::{delete, patch, post, route};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::pagination::{parse_limit, DEFAULT_LIMIT};
use crate::domain::webhook::{AttemptLog, Delivery, DeliveryState, Endpoint, EventTypes};
use crate::http::body::Body;
use crate::http::extract::CurrentPartner;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::{parse_before, path, positive_id};
use crate::http::responses::{BadId, JsonBody, WebhookManager};
use crate::service::webhooks::{self, EndpointUpdate, Manager, NewEndpointInput};

/// What a partner can be told of (docs/webhooks.md).
#[derive(ToSchema)]
pub enum EventTypeName {
    #[schema(rename = "visit.requested")]
    VisitRequested,
    #[schema(rename = "visit.accepted")]
    VisitAccepted,
    #[schema(rename = "visit.declined")]
    VisitDeclined,
    #[schema(rename = "visit.cancelled")]
    VisitCancelled,
    #[schema(rename = "visit.expired")]
    VisitExpired,
    #[schema(rename = "visit.completed")]
    VisitCompleted,
    #[schema(rename = "lesson.published")]
    LessonPublished,
    #[schema(rename = "organisation.updated")]
    OrganisationUpdated,
}

/// The partner an endpoint belongs to (in admins' lists).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPartner {
    #[schema(example = "mp_0123456789abcdef")]
    pub client_id: String,
    pub name: String,
}

/// A webhook endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointView {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "https://hooks.vng.example/meeloop")]
    pub url: String,
    pub description: String,
    #[schema(value_type = Vec<EventTypeName>)]
    pub event_types: Vec<String>,
    /// `active`; `paused` by its partner; `held` by an admin; `disabled`
    /// after failing for a day. Deliveries wait unless it is active.
    #[schema(example = "active")]
    pub status: String,
    /// Paused by its partner.
    pub paused: bool,
    /// Paused by an admin (only an admin resumes it).
    pub paused_by_admin: bool,
    /// Since when every attempt failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was switched off for failing.
    pub disabled_at: Option<DateTime<Utc>>,
    /// After a secret rotation: until when the previous secret also signs.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Admins' lists only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<EndpointPartner>,
}

impl WebhookEndpointView {
    pub fn new(e: Endpoint, partner: Option<(String, String)>) -> Self {
        WebhookEndpointView {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e
                .event_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            status: e.status.as_str().to_string(),
            paused: e.paused,
            paused_by_admin: e.status == crate::domain::webhook::EndpointStatus::Held,
            failing_since: e.failing_since.map(|t| t.and_utc()),
            disabled_at: e.disabled_at.map(|t| t.and_utc()),
            previous_secret_valid_until: e.previous_secret_until.map(|t| t.and_utc()),
            created_at: e.created_at.and_utc(),
            updated_at: e.updated_at.and_utc(),
            partner: partner.map(|(client_id, name)| EndpointPartner { client_id, name }),
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpointView,
    /// `whsec_` and the base64 of the key (Standard Webhooks); verify
    /// deliveries with it. Not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Deliveries per state.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sending: i64,
    pub delivered: i64,
    pub dead: i64,
}

/// One endpoint and its deliveries counted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointDetail {
    pub endpoint: WebhookEndpointView,
    pub deliveries: DeliveryCounts,
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; absent when no answer came.
    pub status: Option<i32>,
    pub latency_ms: i32,
    /// The start of the receiver's answer (at most 500 characters).
    pub response: String,
    /// Why the attempt failed.
    pub error: Option<String>,
}

/// One message to one endpoint, with its latest attempts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[schema(example = 41)]
    pub id: i64,
    pub endpoint_id: i64,
    /// The `webhook-id` header: the same on every attempt.
    #[schema(example = "msg_6f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f")]
    pub webhook_id: String,
    #[schema(example = "visit.accepted")]
    pub event_type: String,
    #[schema(value_type = String, example = "delivered")]
    pub state: String,
    pub attempts: i32,
    /// When a pending delivery is tried next.
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub given_up_at: Option<DateTime<Utc>>,
    /// Newest first (at most 20).
    pub log: Vec<DeliveryAttemptView>,
}

impl From<AttemptLog> for DeliveryAttemptView {
    fn from(a: AttemptLog) -> Self {
        DeliveryAttemptView {
            attempted_at: a.at.and_utc(),
            status: a.status,
            latency_ms: a.latency_ms,
            response: a.response,
            error: a.error,
        }
    }
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            endpoint_id: d.endpoint_id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            state: d.state.to_string(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.and_utc(),
            created_at: d.created_at.and_utc(),
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
            given_up_at: d.given_up_at.map(|t| t.and_utc()),
            log: d.log.into_iter().map(DeliveryAttemptView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    /// Newest first.
    pub items: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    #[param(inline, value_type = Option<String>, pattern = "^(pending|sending|delivered|dead)$")]
    pub state: Option<String>,
    /// Only deliveries older than this id (the `nextBefore` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// An endpoint's deliveries, for partners and admins alike.
pub(crate) async fn delivery_page(call: &Call, manager: Manager, id: i64) -> ApiResult {
    let params = call.query::<DeliveryParams>()?;
    let state = params.get("state", |raw| raw.parse::<DeliveryState>())?;
    let before = params.get("before", parse_before)?;
    let limit = params.get("limit", parse_limit)?.unwrap_or(DEFAULT_LIMIT);
    let (items, next_before) =
        webhooks::deliveries(call.ctx(), manager, id, state, before, limit).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(DeliveryPage {
            items: items.into_iter().map(DeliveryView::from).collect(),
            next_before,
        }))
}

/// Sends a delivery again, for partners and admins alike.
pub(crate) async fn redeliver_one(
    call: &Call,
    manager: Manager,
    ids: (String, String),
) -> ApiResult {
    call.no_query()?;
    let endpoint = path("id", &ids.0, positive_id)?;
    let delivery = path("deliveryId", &ids.1, positive_id)?;
    let again = webhooks::redeliver(call.ctx(), manager, call.client(), endpoint, delivery).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(DeliveryView::from(again)))
}

fn event_types(names: &[String]) -> Result<EventTypes, ApiError> {
    EventTypes::new(names).map_err(ApiError::field("eventTypes"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateWebhook {
    /// Where deliveries are posted. Its host must resolve to public
    /// addresses only (unless the operator allows it).
    #[schema(
        max_length = 2000,
        pattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\\s#]*)?$",
        example = "https://hooks.vng.example/meeloop"
    )]
    pub url: String,
    #[schema(value_type = Vec<EventTypeName>, min_items = 1)]
    pub event_types: Vec<String>,
    /// What it is for (at most 500 characters). May be left out, but is never `null`.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false, max_length = 500)]
    pub description: Option<String>,
    /// Start paused (deliveries wait). May be left out, but is never `null`.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub paused: Option<bool>,
}

/// The partner's webhook endpoints
///
/// Every endpoint of the calling partner, oldest first, without secrets.
/// Needs the `webhooks:manage` scope.
#[utoipa::path(
    get,
    tag = "webhooks",
    responses(
        (status = 200, description = "The partner's endpoints", body = Vec<WebhookEndpointView>),
        (status = 400, description = "An unknown query parameter", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[route("/partner/webhooks", method = "GET", method = "HEAD")]
pub async fn list(call: Call, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let endpoints = webhooks::list(call.ctx(), Manager::Partner(partner.0)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(
            endpoints
                .into_iter()
                .map(|(e, _)| WebhookEndpointView::new(e, None))
                .collect::<Vec<_>>(),
        ))
}

/// Register a webhook endpoint
///
/// Registers a URL for the event types given; deliveries are signed per
/// Standard Webhooks 1.0 with the `secret` in the answer, shown this once.
/// Refused with `webhook_url_refused` when the URL is not http(s) (https in
/// production) or its host resolves to a loopback, private, link-local,
/// multicast or reserved address; `too_many_endpoints` past the limit
/// (10 by default). Audited.
#[utoipa::path(
    post,
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = WebhookEndpointWithSecret),
        (status = 400, description = "A field is invalid, or the URL may not receive webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The partner has as many endpoints as allowed", body = Problem, content_type = "application/problem+json"),
        JsonBody,
        WebhookManager,
    )
)]
#[post("/partner/webhooks")]
pub async fn create(call: Call, partner: CurrentPartner, body: Body<CreateWebhook>) -> ApiResult {
    call.no_query()?;
    let allowed = std::future::ready(webhooks::may_manage(&partner.0));
    let body = body.after(allowed).await?;
    let input = NewEndpointInput {
        event_types: event_types(&body.event_types)?,
        url: body.url,
        description: body.description,
        paused: body.paused.unwrap_or(false),
    };
    let (endpoint, secret) = webhooks::create(call.ctx(), partner.0, call.client(), input).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            LOCATION,
            format!("/api/v1/partner/webhooks/{}", endpoint.id),
        ))
        .json(WebhookEndpointWithSecret {
            endpoint: WebhookEndpointView::new(endpoint, None),
            secret,
        }))
}

pub(crate) fn detail(
    endpoint: Endpoint,
    counts: Vec<(DeliveryState, i64)>,
    partner: Option<(String, String)>,
) -> WebhookEndpointDetail {
    let mut counted = DeliveryCounts::default();
    for (state, n) in counts {
        match state {
            DeliveryState::Pending => counted.pending = n,
            DeliveryState::Sending => counted.sending = n,
            DeliveryState::Delivered => counted.delivered = n,
            DeliveryState::Dead => counted.dead = n,
        }
    }
    WebhookEndpointDetail {
        endpoint: WebhookEndpointView::new(endpoint, partner),
        deliveries: counted,
    }
}

/// One webhook endpoint
///
/// The endpoint and its deliveries counted per state. Another partner's
/// endpoint is `unknown_endpoint`.
#[utoipa::path(
    get,
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointDetail),
        BadId,
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[route("/partner/webhooks/{id}", method = "GET", method = "HEAD")]
pub async fn get(call: Call, id: web::Path<String>, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let (endpoint, counts) = webhooks::get(call.ctx(), Manager::Partner(partner.0), id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(detail(endpoint, counts, None)))
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookPatch {
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(
        nullable = false,
        max_length = 2000,
        pattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\\s#]*)?$"
    )]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(value_type = Vec<EventTypeName>, nullable = false, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false, max_length = 500)]
    pub description: Option<String>,
    /// `true` pauses (deliveries wait); `false` resumes, also after the
    /// endpoint was switched off for failing.
    #[serde(default, deserialize_with = "crate::http::body::present")]
    #[schema(nullable = false)]
    pub paused: Option<bool>,
}

/// Change a webhook endpoint
///
/// Changes the URL (checked as when registering), event types, description,
/// or pauses and resumes it. Resuming (`"paused": false`) also switches an
/// endpoint on that was switched off for failing: its waiting deliveries go
/// out. An endpoint an admin paused stays paused (`held_by_admin`). Audited.
#[utoipa::path(
    patch,
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "The endpoint after the change", body = WebhookEndpointView),
        (status = 400, description = "A malformed id, a field is invalid, or the URL may not receive webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An admin paused it", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[patch("/partner/webhooks/{id}")]
pub async fn update(
    call: Call,
    id: web::Path<String>,
    partner: CurrentPartner,
    body: Body<WebhookPatch>,
) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let body = body
        .after(webhooks::may_change(call.ctx(), &partner.0, id))
        .await?;
    let update = EndpointUpdate {
        event_types: body.event_types.as_deref().map(event_types).transpose()?,
        url: body.url,
        description: body.description,
        paused: body.paused,
    };
    let endpoint = webhooks::update(call.ctx(), partner.0, call.client(), id, update).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointView::new(endpoint, None)))
}

/// Delete a webhook endpoint
///
/// Deletes the endpoint with its waiting deliveries and their log. Audited.
#[utoipa::path(
    delete,
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 204, description = "Deleted"),
        BadId,
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[delete("/partner/webhooks/{id}")]
pub async fn remove(call: Call, id: web::Path<String>, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    webhooks::delete(call.ctx(), partner.0, call.client(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret
///
/// A new secret, shown this once. For `webhooks.rotation_overlap_secs` (a
/// day by default) deliveries carry signatures with the new and the
/// previous secret, so the receiver can switch without losing a message.
/// Audited.
#[utoipa::path(
    post,
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The new secret, shown this once", body = WebhookEndpointWithSecret),
        BadId,
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[post("/partner/webhooks/{id}/secret")]
pub async fn rotate(call: Call, id: web::Path<String>, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let (endpoint, secret) =
        webhooks::rotate_secret(call.ctx(), partner.0, call.client(), id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookEndpointWithSecret {
            endpoint: WebhookEndpointView::new(endpoint, None),
            secret,
        }))
}

/// Send a test message
///
/// Queues a `webhook.test` message to the endpoint, whatever event types it
/// wants, signed like any other; follow it in the delivery log. Audited.
#[utoipa::path(
    post,
    tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 202, description = "Queued", body = DeliveryView),
        BadId,
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[post("/partner/webhooks/{id}/test")]
pub async fn test(call: Call, id: web::Path<String>, partner: CurrentPartner) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let delivery = webhooks::send_test(call.ctx(), partner.0, call.client(), id).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(DeliveryView::from(delivery)))
}

/// An endpoint's delivery log
///
/// Deliveries newest first, each with its latest attempts (time, HTTP
/// status, latency, the start of the answer, the error). Filter with
/// `state`; page with `before`.
#[utoipa::path(
    get,
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64),
        DeliveryParams,
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        BadId,
        (status = 404, description = "No such endpoint (or not yours)", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[route("/partner/webhooks/{id}/deliveries", method = "GET", method = "HEAD")]
pub async fn deliveries(call: Call, id: web::Path<String>, partner: CurrentPartner) -> ApiResult {
    let id = path("id", &id, positive_id)?;
    delivery_page(&call, Manager::Partner(partner.0), id).await
}

/// Send a delivery again
///
/// Queues a delivered or dead delivery again, due now, with the same
/// `webhook-id` (receivers that keep ids will see a repeat) and a fresh
/// set of attempts. `still_on_its_way` while it is pending or sending.
/// Audited.
#[utoipa::path(
    post,
    tag = "webhooks",
    params(
        ("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64),
        ("deliveryId" = i64, Path, description = "Delivery id", minimum = 1, maximum = 9223372036854775807_i64),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        BadId,
        (status = 404, description = "No such endpoint (or not yours) or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery is still on its way", body = Problem, content_type = "application/problem+json"),
        WebhookManager,
    )
)]
#[post("/partner/webhooks/{id}/deliveries/{deliveryId}/redeliver")]
pub async fn redeliver(
    call: Call,
    ids: web::Path<(String, String)>,
    partner: CurrentPartner,
) -> ApiResult {
    redeliver_one(&call, Manager::Partner(partner.0), ids.into_inner()).await
}
