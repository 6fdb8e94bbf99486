//! `/metrics` in Prometheus's text format (docs/operations.md,
//! "Monitoring"). Never open by default: either on a listener of its own
//! (`metrics.listen`, for the collector's network only) or on the main
//! listener for a bearer token (`metrics.bearer_token`). Not in the OpenAPI
//! document: it is for operators' collectors, not for partners.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::http::problem::ApiError;
use crate::http::ApiResult;
use crate::service::operations;
use crate::state::AppState;

/// Who may read `/metrics` where it is routed.
pub struct MetricsEndpoint {
    handle: PrometheusHandle,
    /// SHA-256 of the bearer token; none on the metrics listener.
    token: Option<[u8; 32]>,
}

impl MetricsEndpoint {
    /// On the metrics listener: whoever reaches it.
    pub fn open(handle: PrometheusHandle) -> Self {
        MetricsEndpoint {
            handle,
            token: None,
        }
    }

    /// On the main listener: only with the token.
    pub fn bearer(handle: PrometheusHandle, token: &SecretString) -> Self {
        MetricsEndpoint {
            handle,
            token: Some(digest(token.expose_secret())),
        }
    }
}

/// Compared as digests, so the time taken says nothing about the token.
fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub async fn scrape(
    req: HttpRequest,
    endpoint: web::Data<MetricsEndpoint>,
    state: web::Data<AppState>,
) -> ApiResult {
    if let Some(expected) = endpoint.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.map(digest) != Some(expected) {
            return Err(ApiError::unauthorized(
                "/metrics needs the bearer token set in metrics.bearer_token",
            ));
        }
    }
    let gauges = operations::gauges(&state.ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(crate::observe::render(&endpoint.handle, &gauges)))
}
