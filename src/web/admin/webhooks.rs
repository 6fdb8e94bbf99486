//! Partners' webhook endpoints: every one with its status, pause and
//! resume; per endpoint its delivery log with "send again".

use crate::web::PageResult;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::domain::organisation::Language;
use crate::domain::webhook::{DeliveryState, EndpointStatus};
use crate::service::clock::long_moment;
use crate::service::webhooks::{self, Manager};
use crate::web::session::Nav;
use crate::web::{page, Chrome, Session, WebError};

use super::{admin_only, back, fail, PAGE};

struct EndpointRow {
    id: i64,
    partner: String,
    url: String,
    events: String,
    status: &'static str,
    held: bool,
    failing: String,
}

fn status_text(status: EndpointStatus, lang: Language) -> &'static str {
    match (status, lang) {
        (EndpointStatus::Active, Language::Nl) => "actief",
        (EndpointStatus::Active, Language::En) => "active",
        (EndpointStatus::Paused, Language::Nl) => "gepauzeerd door de partner",
        (EndpointStatus::Paused, Language::En) => "paused by the partner",
        (EndpointStatus::Held, Language::Nl) => "stilgezet door beheer",
        (EndpointStatus::Held, Language::En) => "paused by an admin",
        (EndpointStatus::Disabled, Language::Nl) => "uitgezet na een dag fouten",
        (EndpointStatus::Disabled, Language::En) => "switched off after a day of failures",
    }
}

#[derive(Template)]
#[template(path = "web/admin/webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    csrf: String,
    rows: Vec<EndpointRow>,
}

/// GET /admin/webhooks
pub async fn webhooks(session: Session) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    let endpoints = webhooks::list(session.ctx(), Manager::Admin(session.user.clone()))
        .await
        .map_err(fail(lang))?;
    let rows = endpoints
        .into_iter()
        .map(|(e, partner)| EndpointRow {
            id: e.id,
            partner: partner.map(|(_, name)| name).unwrap_or_default(),
            events: e
                .event_types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            status: status_text(e.status, lang),
            held: e.status == EndpointStatus::Held,
            failing: e
                .failing_since
                .map(|t| long_moment(t, lang))
                .unwrap_or_default(),
            url: e.url,
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &WebhooksPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            rows,
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    paused: String,
}

/// POST /admin/webhooks/{id}/pause: `paused=true` holds, `false` resumes.
pub async fn pause(session: Session, id: web::Path<String>, body: web::Bytes) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    let form: PauseForm = session.form(&body)?;
    let id: i64 = id.parse().map_err(|_| WebError::not_found(lang))?;
    let held = form.paused == "true";
    webhooks::hold(
        session.ctx(),
        session.user.clone(),
        session.client,
        id,
        held,
    )
    .await
    .map_err(fail(lang))?;
    Ok(back("/admin/webhooks".into()))
}

struct AttemptRow {
    at: String,
    status: String,
    latency: i32,
    response: String,
    error: String,
}

struct DeliveryRow {
    id: i64,
    webhook_id: String,
    event_type: String,
    state: &'static str,
    again: bool,
    attempts: i32,
    created: String,
    attempt_rows: Vec<AttemptRow>,
}

#[derive(Template)]
#[template(path = "web/admin/webhook.html")]
struct WebhookPage {
    c: Chrome,
    csrf: String,
    id: i64,
    url: String,
    status: &'static str,
    counts: Vec<(&'static str, i64)>,
    state: String,
    deliveries: Vec<DeliveryRow>,
    older: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    state: Option<String>,
    before: Option<i64>,
}

/// GET /admin/webhooks/{id}?state=&before=: the endpoint's delivery log.
pub async fn webhook(
    session: Session,
    id: web::Path<String>,
    query: web::Query<LogQuery>,
) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    let id: i64 = id.parse().map_err(|_| WebError::not_found(lang))?;
    let filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<DeliveryState>()
                .map_err(|_| WebError::not_found(lang))?,
        ),
    };
    let admin = || Manager::Admin(session.user.clone());
    let (endpoint, counts) = webhooks::get(session.ctx(), admin(), id)
        .await
        .map_err(fail(lang))?;
    let (deliveries, next) =
        webhooks::deliveries(session.ctx(), admin(), id, filter, query.before, PAGE)
            .await
            .map_err(fail(lang))?;
    let shown = filter.map(|s| s.as_str()).unwrap_or("");
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            state: d.state.as_str(),
            again: matches!(d.state, DeliveryState::Delivered | DeliveryState::Dead),
            attempts: d.attempts,
            created: long_moment(d.created_at, lang),
            attempt_rows: d
                .log
                .into_iter()
                .map(|a| AttemptRow {
                    at: long_moment(a.at, lang),
                    status: a
                        .status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "–".into()),
                    latency: a.latency_ms,
                    response: a.response,
                    error: a.error.unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        &WebhookPage {
            c: session.chrome(Nav::Admin),
            csrf: session.csrf.clone(),
            id,
            status: status_text(endpoint.status, lang),
            url: endpoint.url,
            counts: DeliveryState::ALL
                .iter()
                .map(|s| {
                    let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
                    (s.as_str(), n)
                })
                .collect(),
            state: shown.to_string(),
            older: next.map(|n| format!("/admin/webhooks/{id}?state={shown}&before={n}")),
            deliveries,
        },
    ))
}

/// POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver
pub async fn redeliver(
    session: Session,
    ids: web::Path<(String, String)>,
    body: web::Bytes,
) -> PageResult {
    admin_only(&session)?;
    let lang = session.lang;
    session.check_form(&body)?;
    let (id, delivery) = ids.into_inner();
    let id: i64 = id.parse().map_err(|_| WebError::not_found(lang))?;
    let delivery: i64 = delivery.parse().map_err(|_| WebError::not_found(lang))?;
    let admin = Manager::Admin(session.user.clone());
    webhooks::redeliver(session.ctx(), admin, session.client, id, delivery)
        .await
        .map_err(fail(lang))?;
    Ok(back(format!("/admin/webhooks/{id}")))
}
