//! Liveness and readiness probes.

use crate::http::call::Call;
use crate::http::ApiResult;
use actix_web::route;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::responses::{BadQuery, Unavailable};
use crate::service::directory;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness probe
///
/// Answers 200 as long as the process runs; it does not look at the database.
/// For load balancers and process supervisors.
#[utoipa::path(
    get,
    tag = "operations",
    responses(
        (status = 200, description = "The process is up", body = Health),
        BadQuery,
    )
)]
#[route("/healthz", method = "GET", method = "HEAD")]
pub async fn healthz(call: Call) -> ApiResult {
    call.no_query()?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// Readiness probe
///
/// Answers 200 when the service can reach its database, 503 otherwise. For load
/// balancers: send traffic only to ready instances.
#[utoipa::path(
    get,
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        BadQuery,
        Unavailable,
    )
)]
#[route("/readyz", method = "GET", method = "HEAD")]
pub async fn readyz(call: Call) -> ApiResult {
    call.no_query()?;
    directory::check_database(call.ctx()).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
