//! Admins see every partner's webhook endpoints, pause (hold) and resume
//! them, read their delivery logs and send deliveries again.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::{patch, post, route};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::body::Body;
use crate::http::extract::AdminUser;
use crate::http::problem::Problem;
use crate::http::query::{path, positive_id};
use crate::http::responses::{AdminOnly, BadId, BadQuery};
use crate::http::webhooks::{
    delivery_page, detail, redeliver_one, DeliveryPage, DeliveryParams, DeliveryView,
    WebhookEndpointDetail, WebhookEndpointView,
};
use crate::service::webhooks::{self, Manager};

/// Every webhook endpoint
///
/// All partners' endpoints with their partner, oldest first, without
/// secrets. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    responses(
        (status = 200, description = "Every endpoint", body = Vec<WebhookEndpointView>),
        BadQuery,
        AdminOnly,
    )
)]
#[route("/admin/webhooks", method = "GET", method = "HEAD")]
pub async fn list(call: Call, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let endpoints = webhooks::list(call.ctx(), Manager::Admin(admin.0)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(
            endpoints
                .into_iter()
                .map(|(e, partner)| WebhookEndpointView::new(e, partner))
                .collect::<Vec<_>>(),
        ))
}

/// One webhook endpoint
///
/// Any partner's endpoint and its deliveries counted per state. Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointDetail),
        BadId,
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/webhooks/{id}", method = "GET", method = "HEAD")]
pub async fn get(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let (endpoint, counts) = webhooks::get(call.ctx(), Manager::Admin(admin.0), id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(detail(endpoint, counts, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminWebhookPatch {
    /// `true` pauses the endpoint until an admin resumes it (its partner
    /// cannot); `false` resumes it, also after it was switched off.
    pub paused: bool,
}

/// Pause or resume an endpoint
///
/// An admin's pause: deliveries wait, and only an admin resumes it.
/// Resuming also switches on an endpoint that was switched off for
/// failing. Admins only; audited.
#[utoipa::path(
    patch,
    tag = "admin",
    params(("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64)),
    request_body = AdminWebhookPatch,
    responses(
        (status = 200, description = "The endpoint after the change", body = WebhookEndpointView),
        (status = 400, description = "A malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[patch("/admin/webhooks/{id}")]
pub async fn pause(
    call: Call,
    id: web::Path<String>,
    admin: AdminUser,
    body: Body<AdminWebhookPatch>,
) -> ApiResult {
    call.no_query()?;
    let id = path("id", &id, positive_id)?;
    let body = body.admitted()?;
    let endpoint = webhooks::hold(call.ctx(), admin.0, call.client(), id, body.paused).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpointView::new(endpoint, None)))
}

/// An endpoint's delivery log
///
/// Any endpoint's deliveries newest first, each with its latest attempts.
/// Admins only.
#[utoipa::path(
    get,
    tag = "admin",
    params(
        ("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64),
        DeliveryParams,
    ),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        BadId,
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[route("/admin/webhooks/{id}/deliveries", method = "GET", method = "HEAD")]
pub async fn deliveries(call: Call, id: web::Path<String>, admin: AdminUser) -> ApiResult {
    let id = path("id", &id, positive_id)?;
    delivery_page(&call, Manager::Admin(admin.0), id).await
}

/// Send a delivery again
///
/// Queues a delivered or dead delivery again with the same `webhook-id`.
/// Admins only; audited.
#[utoipa::path(
    post,
    tag = "admin",
    params(
        ("id" = i64, Path, description = "Endpoint id", minimum = 1, maximum = 9223372036854775807_i64),
        ("deliveryId" = i64, Path, description = "Delivery id", minimum = 1, maximum = 9223372036854775807_i64),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        BadId,
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery is still on its way", body = Problem, content_type = "application/problem+json"),
        AdminOnly,
    )
)]
#[post("/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver")]
pub async fn redeliver(
    call: Call,
    ids: web::Path<(String, String)>,
    admin: AdminUser,
) -> ApiResult {
    redeliver_one(&call, Manager::Admin(admin.0), ids.into_inner()).await
}
