//! Webhooks (docs/webhooks.md): partners register endpoints (scope
//! `webhooks:manage`), admins see and hold them, and [`Webhooks`] — one of
//! the event consumers — queues a signed delivery for every endpoint that
//! wants an event, in the transaction that made it happen. The worker in
//! `crate::webhooks` sends them and reports back here.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use tracing::instrument;
use utoipa::ToSchema;

use super::events::{Consumer, Scene};
use super::partners::require_scope;
use super::context::Context;
use super::{audit, user_ref, ServiceError};
use crate::auth::jwt::random_hex;
use crate::db::webhooks::{self as repo, EndpointChanges, EndpointRow, NewDelivery, NewEndpoint};
use crate::db::{self, DbConn};
use crate::domain::account::User;
use crate::domain::event::Event;
use crate::domain::lesson::Publish;
use crate::domain::organisation::{Language, OrganisationId, OrganisationKind};
use crate::domain::partner::{Partner, Scope, Scopes};
use crate::domain::refusal::WebhookRefusal;
use crate::domain::visit::VisitRole;
use crate::domain::webhook::{
    AttemptLog, Delivery, DeliveryState, Endpoint, EndpointStatus, EventType, EventTypes, Secret,
    Target, TEST_EVENT,
};
use crate::domain::Invalid;

/// Who manages endpoints: a partner its own, an admin any.
#[derive(Debug, Clone)]
pub enum Manager {
    Partner(Partner),
    Admin(User),
}

impl Manager {
    fn check(&self) -> Result<(), ServiceError> {
        match self {
            Manager::Partner(p) => require_scope(p, Scope::WebhooksManage),
            Manager::Admin(u) => super::admin::require_admin(u),
        }
    }

    fn actor(&self) -> String {
        match self {
            Manager::Partner(p) => format!("partner:{}", p.client_id),
            Manager::Admin(u) => user_ref(u.id),
        }
    }

    /// Whose endpoints this manager may see: one partner's, or all.
    fn owner(&self) -> Option<i64> {
        match self {
            Manager::Partner(p) => Some(p.id),
            Manager::Admin(_) => None,
        }
    }
}

fn corrupt(e: Invalid) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("stored webhook endpoint: {}", e.message))
}

fn endpoint_of(row: EndpointRow) -> Result<Endpoint, ServiceError> {
    Ok(Endpoint {
        status: EndpointStatus::of(row.paused, row.held_by_admin, row.disabled_at),
        event_types: EventTypes::parse_stored(&row.event_types).map_err(corrupt)?,
        id: row.id,
        partner_id: row.partner_id,
        url: row.url,
        description: row.description,
        paused: row.paused,
        failing_since: row.failing_since,
        disabled_at: row.disabled_at,
        previous_secret_until: row.previous_secret.as_ref().and(row.previous_until),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn unknown(id: i64) -> ServiceError {
    WebhookRefusal::UnknownEndpoint { id }.into()
}

fn refused_url(e: Invalid) -> ServiceError {
    WebhookRefusal::WebhookUrlRefused { reason: e.message }.into()
}

fn new_secret() -> Secret {
    Secret::from_key(rand::random())
}

/// Where deliveries may go: the URL's text, then where its host points now.
async fn accept_url(ctx: &Context, raw: &str) -> Result<Target, ServiceError> {
    let target = Target::parse(raw, ctx.webhooks.https_only).map_err(refused_url)?;
    crate::webhooks::check_target(&target, &ctx.webhooks.allowed)
        .await
        .map_err(refused_url)?;
    Ok(target)
}

fn description(raw: Option<String>) -> Result<String, ServiceError> {
    let text = raw.unwrap_or_default().trim().to_string();
    if text.chars().count() > 500 {
        return Err(Invalid::new("description: at most 500 characters").into());
    }
    Ok(text)
}

/// A new endpoint, as a partner registers it.
#[derive(Debug, Clone)]
pub struct NewEndpointInput {
    pub url: String,
    pub event_types: EventTypes,
    pub description: Option<String>,
    pub paused: bool,
}

/// Registers an endpoint; returns it with its signing secret, shown this
/// once (deliveries are signed with it, so it is stored as it is).
#[instrument(skip_all, fields(partner = %partner.client_id))]
pub async fn create(
    ctx: &Context,
    partner: Partner,
    address: IpAddr,
    input: NewEndpointInput,
) -> Result<(Endpoint, String), ServiceError> {
    let manager = Manager::Partner(partner.clone());
    manager.check()?;
    let target = accept_url(ctx, &input.url).await?;
    let description = description(input.description)?;
    let (now, max) = (ctx.now(), ctx.webhooks.max_endpoints);
    let secret = new_secret();
    let exposed = secret.expose();
    let endpoint = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                repo::lock_partner(conn, partner.id)?;
                if repo::count_for_partner(conn, partner.id)? >= max {
                    return Err(WebhookRefusal::TooManyEndpoints { max }.into());
                }
                let row = repo::insert_endpoint(
                    conn,
                    &NewEndpoint {
                        partner_id: partner.id,
                        url: target.as_str(),
                        description: &description,
                        event_types: input.event_types.stored(),
                        secret: exposed,
                        paused: input.paused,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                audit(
                    conn,
                    manager.actor(),
                    "webhook.created",
                    Some(address),
                    Some(format!("webhook:{}", row.id)),
                    json!({"url": row.url, "eventTypes": row.event_types}),
                )?;
                endpoint_of(row)
            })
        })
        .await?;
    Ok((endpoint, secret.expose()))
}

/// Every endpoint the manager may see: a partner's own, or (admins) all
/// with their partner's client id and name.
pub async fn list(
    ctx: &Context,
    manager: Manager,
) -> Result<Vec<(Endpoint, Option<(String, String)>)>, ServiceError> {
    manager.check()?;
    ctx.pool
        .run(move |conn| match manager.owner() {
            Some(partner) => repo::of_partner(conn, partner)?
                .into_iter()
                .map(|r| Ok((endpoint_of(r)?, None)))
                .collect(),
            None => repo::all(conn)?
                .into_iter()
                .map(|(r, client, name)| Ok((endpoint_of(r)?, Some((client, name)))))
                .collect(),
        })
        .await
}

fn find_row(conn: &mut DbConn, manager: &Manager, id: i64) -> Result<EndpointRow, ServiceError> {
    repo::find(conn, id, manager.owner())?.ok_or_else(|| unknown(id))
}

/// One endpoint with its deliveries counted per state.
pub async fn get(
    ctx: &Context,
    manager: Manager,
    id: i64,
) -> Result<(Endpoint, Vec<(DeliveryState, i64)>), ServiceError> {
    manager.check()?;
    ctx.pool
        .run(move |conn| {
            let endpoint = endpoint_of(find_row(conn, &manager, id)?)?;
            let counts = repo::counts(conn, id)?
                .into_iter()
                .map(|(state, n)| Ok((state.parse().map_err(corrupt)?, n)))
                .collect::<Result<Vec<_>, ServiceError>>()?;
            Ok((endpoint, counts))
        })
        .await
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub event_types: Option<EventTypes>,
    pub description: Option<String>,
    /// `false` also switches a switched-off endpoint on again: its waiting
    /// deliveries go out.
    pub paused: Option<bool>,
}

/// A partner changes its endpoint.
#[instrument(skip_all, fields(endpoint = id))]
pub async fn update(
    ctx: &Context,
    partner: Partner,
    address: IpAddr,
    id: i64,
    update: EndpointUpdate,
) -> Result<Endpoint, ServiceError> {
    let manager = Manager::Partner(partner);
    manager.check()?;
    let url = match &update.url {
        Some(raw) => Some(accept_url(ctx, raw).await?.as_str().to_string()),
        None => None,
    };
    let description = update.description.map(|d| description(Some(d))).transpose()?;
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let row = find_row(conn, &manager, id)?;
                if update.paused == Some(false) && row.held_by_admin {
                    return Err(WebhookRefusal::HeldByAdmin { id }.into());
                }
                let resume = update.paused == Some(false);
                let changes = EndpointChanges {
                    url: url.clone(),
                    description,
                    event_types: update.event_types.as_ref().map(EventTypes::stored),
                    paused: update.paused,
                    disabled_at: resume.then_some(None),
                    failing_since: resume.then_some(None),
                    updated_at: Some(now),
                    ..EndpointChanges::default()
                };
                let row = repo::update_endpoint(conn, id, &changes)?;
                audit(
                    conn,
                    manager.actor(),
                    "webhook.updated",
                    Some(address),
                    Some(format!("webhook:{id}")),
                    json!({"url": url, "eventTypes": changes.event_types, "paused": update.paused}),
                )?;
                endpoint_of(row)
            })
        })
        .await
}

/// A partner deletes its endpoint, with its deliveries and their log.
pub async fn delete(
    ctx: &Context,
    partner: Partner,
    address: IpAddr,
    id: i64,
) -> Result<(), ServiceError> {
    let manager = Manager::Partner(partner);
    manager.check()?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let row = find_row(conn, &manager, id)?;
                repo::delete_endpoint(conn, id)?;
                audit(
                    conn,
                    manager.actor(),
                    "webhook.deleted",
                    Some(address),
                    Some(format!("webhook:{id}")),
                    json!({"url": row.url}),
                )
            })
        })
        .await
}

/// A new signing secret, shown this once. The previous one keeps signing
/// beside it for `webhooks.rotation_overlap_secs`, so a receiver can switch
/// without losing a message.
pub async fn rotate_secret(
    ctx: &Context,
    partner: Partner,
    address: IpAddr,
    id: i64,
) -> Result<(Endpoint, String), ServiceError> {
    let manager = Manager::Partner(partner);
    manager.check()?;
    let (now, overlap) = (ctx.now(), ctx.webhooks.overlap);
    let secret = new_secret();
    let exposed = secret.expose();
    let endpoint = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| {
                let row = find_row(conn, &manager, id)?;
                let changes = EndpointChanges {
                    secret: Some(exposed),
                    previous_secret: Some(Some(row.secret)),
                    previous_until: Some(Some(now + overlap)),
                    updated_at: Some(now),
                    ..EndpointChanges::default()
                };
                let row = repo::update_endpoint(conn, id, &changes)?;
                audit(
                    conn,
                    manager.actor(),
                    "webhook.secret_rotated",
                    Some(address),
                    Some(format!("webhook:{id}")),
                    json!({"previousValidUntil": row.previous_until}),
                )?;
                endpoint_of(row)
            })
        })
        .await?;
    Ok((endpoint, secret.expose()))
}

/// Queues a `webhook.test` message to the endpoint, whatever it subscribed
/// to; returns the delivery's id.
pub async fn send_test(
    ctx: &Context,
    partner: Partner,
    address: IpAddr,
    id: i64,
) -> Result<Delivery, ServiceError> {
    let manager = Manager::Partner(partner);
    manager.check()?;
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                find_row(conn, &manager, id)?;
                let payload = Message {
                    event_type: TEST_EVENT,
                    timestamp: now.and_utc(),
                    data: json!({"endpointId": id}),
                };
                let delivery = queue(conn, id, &payload)?;
                audit(
                    conn,
                    manager.actor(),
                    "webhook.tested",
                    Some(address),
                    Some(format!("webhook:{id}")),
                    json!({"delivery": delivery}),
                )?;
                one_delivery(conn, id, delivery)
            })
        })
        .await
}

fn one_delivery(conn: &mut DbConn, endpoint: i64, id: i64) -> Result<Delivery, ServiceError> {
    let row = repo::find_delivery(conn, endpoint, id)?
        .ok_or(WebhookRefusal::UnknownDelivery { id })?;
    Ok(deliveries_with_log(conn, vec![row])?.remove(0))
}

fn deliveries_with_log(
    conn: &mut DbConn,
    rows: Vec<repo::DeliveryRow>,
) -> Result<Vec<Delivery>, ServiceError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut logs: std::collections::HashMap<i64, Vec<AttemptLog>> = Default::default();
    for a in repo::attempts_of(conn, &ids)? {
        let log = logs.entry(a.delivery_id).or_default();
        // Newest first; the latest twenty tell enough.
        if log.len() < 20 {
            log.push(AttemptLog {
                at: a.attempted_at,
                status: a.status,
                latency_ms: a.latency_ms,
                response: a.response,
                error: a.error,
            });
        }
    }
    rows.into_iter()
        .map(|r| {
            let log = logs.remove(&r.id).unwrap_or_default();
            Ok(Delivery {
                state: r.state.parse().map_err(corrupt)?,
                id: r.id,
                endpoint_id: r.endpoint_id,
                webhook_id: r.webhook_id,
                event_type: r.event_type,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                created_at: r.created_at,
                delivered_at: r.delivered_at,
                given_up_at: r.given_up_at,
                log,
            })
        })
        .collect()
}

/// An endpoint's deliveries, newest first, each with its latest attempts;
/// the `before` of the next page.
pub async fn deliveries(
    ctx: &Context,
    manager: Manager,
    id: i64,
    state: Option<DeliveryState>,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<Delivery>, Option<i64>), ServiceError> {
    manager.check()?;
    ctx.pool
        .run(move |conn| {
            find_row(conn, &manager, id)?;
            let mut rows = repo::deliveries(conn, id, state, before, limit + 1)?;
            let next = if rows.len() as i64 > limit {
                rows.truncate(limit as usize);
                rows.last().map(|r| r.id)
            } else {
                None
            };
            Ok((deliveries_with_log(conn, rows)?, next))
        })
        .await
}

/// Sends a delivered or dead delivery again (same `webhook-id`, fresh
/// attempts, due now).
pub async fn redeliver(
    ctx: &Context,
    manager: Manager,
    address: IpAddr,
    endpoint: i64,
    id: i64,
) -> Result<Delivery, ServiceError> {
    manager.check()?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                find_row(conn, &manager, endpoint)?;
                repo::find_delivery(conn, endpoint, id)?
                    .ok_or(WebhookRefusal::UnknownDelivery { id })?;
                if !repo::redeliver(conn, id, db::now())? {
                    return Err(WebhookRefusal::StillOnItsWay { id }.into());
                }
                audit(
                    conn,
                    manager.actor(),
                    "webhook.redelivered",
                    Some(address),
                    Some(format!("webhook:{endpoint}")),
                    json!({"delivery": id}),
                )?;
                one_delivery(conn, endpoint, id)
            })
        })
        .await
}

/// An admin holds an endpoint (nothing goes out until an admin resumes it)
/// or resumes it (which also switches a switched-off endpoint on again).
pub async fn hold(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    id: i64,
    held: bool,
) -> Result<Endpoint, ServiceError> {
    let manager = Manager::Admin(admin);
    manager.check()?;
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                find_row(conn, &manager, id)?;
                let changes = EndpointChanges {
                    held_by_admin: Some(held),
                    disabled_at: (!held).then_some(None),
                    failing_since: (!held).then_some(None),
                    updated_at: Some(now),
                    ..EndpointChanges::default()
                };
                let row = repo::update_endpoint(conn, id, &changes)?;
                audit(
                    conn,
                    manager.actor(),
                    if held { "webhook.held" } else { "webhook.resumed" },
                    Some(address),
                    Some(format!("webhook:{id}")),
                    json!({}),
                )?;
                endpoint_of(row)
            })
        })
        .await
}

// ---------------------------------------------------------------------
// What partners are told: the messages, built from public fields only.

/// A message as it is posted: Standard Webhooks' recommended shape.
#[derive(Debug, Serialize)]
struct Message<T: Serialize> {
    #[serde(rename = "type")]
    event_type: &'static str,
    /// When it happened (Meeloop's clock).
    timestamp: DateTime<Utc>,
    data: T,
}

/// `data` of the `visit.*` events: what happened to which visit, without
/// who: visits are not public, so the two organisations are not named.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitData {
    #[schema(example = 12)]
    pub visit_id: i64,
    /// The visit's state after the event.
    #[schema(example = "accepted")]
    pub state: String,
    /// The topic's slug (`GET /api/v1/topics`).
    #[schema(example = "cloud-migratie")]
    pub topic: String,
    /// The day of the visit, once accepted.
    pub date: Option<NaiveDate>,
    /// `visit.cancelled`: which side called it off.
    #[schema(example = "host")]
    pub cancelled_by: Option<String>,
    pub requested_at: DateTime<Utc>,
}

/// `data` of `lesson.published`: which lesson entered the knowledge base;
/// with `lessons:read`, the lesson as the knowledge base shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonData {
    #[schema(example = 31)]
    pub lesson_id: i64,
    #[schema(example = 12)]
    pub visit_id: i64,
    /// Which side wrote it.
    #[schema(example = "requester")]
    pub side: String,
    #[schema(example = "cloud-migratie")]
    pub topic: String,
    /// Only for partners with `lessons:read`.
    pub lesson: Option<LessonText>,
}

/// A published lesson, as the knowledge base shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonText {
    /// The visit's month, e.g. `2027-03`.
    pub visit_month: String,
    /// Only when the author published under its name.
    pub author_name: Option<String>,
    pub author_kind: OrganisationKind,
    /// "een gemeente van 20.000–50.000 inwoners".
    pub author_size_class: String,
    /// The host, unless it is the unnamed author.
    pub host_name: Option<String>,
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: i32,
    pub rating: i16,
    pub submitted_at: DateTime<Utc>,
}

/// `data` of `organisation.updated`: the organisation's public profile
/// after the change, and which parts changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationData {
    #[schema(example = 4)]
    pub organisation_id: i64,
    #[schema(example = "GM0193")]
    pub code: String,
    #[schema(example = "Zwolle")]
    pub name: String,
    pub kind: OrganisationKind,
    pub province: Option<String>,
    /// Whether it is in the directory (deactivated organisations are not).
    pub active: bool,
    /// Fields and expertise that changed, e.g. `name`, `expertise:cloud-migratie`.
    pub changed: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// `data` of `webhook.test`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestData {
    pub endpoint_id: i64,
}

fn visit_data(scene: &Scene<'_>, event: &Event) -> Option<VisitData> {
    let v = &scene.parties?.visit;
    Some(VisitData {
        visit_id: v.id.0,
        state: v.state.to_string(),
        topic: v.topic.clone(),
        date: v.date,
        cancelled_by: match event {
            Event::VisitCancelled { by, .. } => Some(by.to_string()),
            _ => None,
        },
        requested_at: v.created_at.and_utc(),
    })
}

fn lesson_data(
    conn: &mut DbConn,
    scene: &Scene<'_>,
    side: VisitRole,
    full: bool,
) -> Result<Option<LessonData>, ServiceError> {
    let Some(parties) = scene.parties else {
        return Ok(None);
    };
    let Some(row) = db::lessons::for_visit(conn, parties.visit.id)?
        .into_iter()
        .find(|r| r.side == side && r.publish != Publish::No)
    else {
        return Ok(None);
    };
    let lesson_id = row.id.0;
    let text = if full {
        super::lessons::knowledge::shape(conn, vec![row], Language::Nl)?
            .pop()
            .map(|p| LessonText {
                visit_month: p.visit_month,
                author_name: p.author_name,
                author_kind: p.author_kind,
                author_size_class: p.author_size_class,
                host_name: p.host.map(|(_, name)| name),
                situation: p.lesson.situation,
                strengths: p.lesson.strengths,
                mistakes: p.lesson.mistakes,
                recommendations: p.lesson.recommendations,
                hours_saved: p.lesson.hours_saved,
                rating: p.lesson.rating,
                submitted_at: p.submitted_at.and_utc(),
            })
    } else {
        None
    };
    Ok(Some(LessonData {
        lesson_id,
        visit_id: parties.visit.id.0,
        side: side.to_string(),
        topic: parties.visit.topic.clone(),
        lesson: text,
    }))
}

fn organisation_data(
    conn: &mut DbConn,
    id: OrganisationId,
    changed: &[String],
) -> Result<Option<OrganisationData>, ServiceError> {
    Ok(db::organisations::find(conn, id)?.map(|o| OrganisationData {
        organisation_id: o.id.0,
        code: o.code,
        name: o.name,
        kind: o.kind,
        province: o.province,
        active: o.active,
        changed: changed.to_vec(),
        updated_at: o.updated_at,
    }))
}

/// The message for `event` as a partner with `scopes` may read it.
fn message_for(
    conn: &mut DbConn,
    scene: &Scene<'_>,
    event: &Event,
    kind: EventType,
    scopes: &Scopes,
) -> Result<Option<String>, ServiceError> {
    let timestamp = scene.now.and_utc();
    let text = |data: serde_json::Value| {
        serde_json::to_string(&Message {
            event_type: kind.as_str(),
            timestamp,
            data,
        })
        .map_err(|e| ServiceError::Internal(e.into()))
    };
    let data = match event {
        Event::LessonPublished { side, .. } => {
            let full = scopes.contains(Scope::LessonsRead);
            lesson_data(conn, scene, *side, full)?.map(|d| json!(d))
        }
        Event::OrganisationUpdated {
            organisation,
            changed,
        } => organisation_data(conn, *organisation, changed)?.map(|d| json!(d)),
        _ => visit_data(scene, event).map(|d| json!(d)),
    };
    data.map(text).transpose()
}

fn queue<T: Serialize>(
    conn: &mut DbConn,
    endpoint: i64,
    message: &Message<T>,
) -> Result<i64, ServiceError> {
    let payload =
        serde_json::to_string(message).map_err(|e| ServiceError::Internal(e.into()))?;
    enqueue_text(conn, endpoint, message.event_type, &payload)
}

fn enqueue_text(
    conn: &mut DbConn,
    endpoint: i64,
    event_type: &str,
    payload: &str,
) -> Result<i64, ServiceError> {
    // Due by the wall clock the workers run on (the event's own time is in
    // the payload).
    let now = db::now();
    Ok(repo::enqueue(
        conn,
        &NewDelivery {
            endpoint_id: endpoint,
            webhook_id: &format!("msg_{}", random_hex(16)),
            event_type,
            payload,
            state: DeliveryState::Pending.as_str(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        },
    )?)
}

/// The consumer: a delivery for every endpoint of an active partner with
/// `webhooks:manage` that wants the event, in the event's transaction (so
/// a delivery exists exactly when the change does). Paused, held and
/// switched-off endpoints get theirs too: they wait, and go out on resume.
pub struct Webhooks;

impl Consumer for Webhooks {
    fn consume(&self, conn: &mut DbConn, scene: &Scene<'_>, event: &Event) -> Result<(), ServiceError> {
        let Some(kind) = event.webhook_type() else {
            return Ok(());
        };
        let mut messages: Vec<(bool, String)> = Vec::new();
        for (row, scopes) in repo::listeners(conn)? {
            let Ok(scopes) = Scopes::parse(&scopes) else {
                continue;
            };
            let wanted = EventTypes::parse_stored(&row.event_types)
                .map(|t| t.contains(kind))
                .unwrap_or(false);
            if !wanted || !scopes.contains(Scope::WebhooksManage) {
                continue;
            }
            // Two versions at most: with and without what lessons:read shows.
            let full = scopes.contains(Scope::LessonsRead);
            let text = match messages.iter().find(|(f, _)| *f == full) {
                Some((_, text)) => Some(text.clone()),
                None => {
                    let made = message_for(conn, scene, event, kind, &scopes)?;
                    if let Some(text) = &made {
                        messages.push((full, text.clone()));
                    }
                    made
                }
            };
            if let Some(text) = text {
                enqueue_text(conn, row.id, kind.as_str(), &text)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------
// The worker's reports.

/// How the worker saw an attempt end.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempt: repo::Attempt,
    pub delivered: bool,
}

/// What recording an attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Delivered,
    Retrying,
    Dead,
    /// The claim had passed to another worker: nothing written.
    LostClaim,
}

/// What the worker needs to record attempts.
#[derive(Debug, Clone)]
pub struct Reporting {
    pub schedule: crate::domain::webhook::Schedule,
    pub disable_after: chrono::Duration,
    pub base_url: String,
}

/// Records one attempt, in one transaction: the log line, the delivery's
/// next step, the endpoint's failing streak, and — after failing for
/// `disable_after` — the endpoint switched off, audited, and its partner's
/// contact emailed.
pub fn record(
    conn: &mut DbConn,
    reporting: &Reporting,
    claim: &repo::Claimed,
    outcome: &Outcome,
    random: f64,
) -> Result<Recorded, ServiceError> {
    conn.write(|conn| {
        let attempts = u32::try_from(claim.attempts).unwrap_or(u32::MAX);
        let now = outcome.attempt.at;
        let next = if outcome.delivered {
            repo::Next::Delivered
        } else {
            match reporting.schedule.after_failure(attempts, now, random) {
                Some(at) => repo::Next::RetryAt(at),
                None => repo::Next::Dead,
            }
        };
        if !repo::record(conn, claim, &outcome.attempt, next)? {
            return Ok(Recorded::LostClaim);
        }
        let endpoint = repo::note_outcome(conn, claim.endpoint_id, outcome.delivered, now)?;
        if let Some(endpoint) = endpoint.filter(|e| {
            !outcome.delivered
                && crate::domain::webhook::should_disable(
                    e.failing_since,
                    now,
                    reporting.disable_after,
                )
        }) {
            if repo::disable(conn, endpoint.id, now)? {
                switched_off(conn, reporting, &endpoint, &outcome.attempt)?;
            }
        }
        Ok(match next {
            repo::Next::Delivered => Recorded::Delivered,
            repo::Next::RetryAt(_) => Recorded::Retrying,
            repo::Next::Dead => Recorded::Dead,
        })
    })
}

fn switched_off(
    conn: &mut DbConn,
    reporting: &Reporting,
    endpoint: &EndpointRow,
    attempt: &repo::Attempt,
) -> Result<(), ServiceError> {
    let (partner, contact) = repo::partner_of(conn, endpoint.id)?;
    let since = endpoint.failing_since.unwrap_or(attempt.at);
    let last_error = attempt
        .error
        .clone()
        .or(attempt.status.map(|s| format!("HTTP {s}")))
        .unwrap_or_default();
    tracing::warn!(endpoint = endpoint.id, %last_error, "webhook endpoint switched off");
    audit(
        conn,
        "webhooks".into(),
        "webhook.disabled",
        None,
        Some(format!("webhook:{}", endpoint.id)),
        json!({"failingSince": since, "lastError": last_error, "contactEmailed": contact.is_some()}),
    )?;
    if let Some(contact) = contact {
        let email = crate::mail::emails::WebhookDisabled {
            partner,
            endpoint_id: endpoint.id,
            url: endpoint.url.clone(),
            failing_since: super::clock::long_moment(since, Language::Nl),
            last_error,
        };
        let message = crate::mail::templates::compose(
            &email,
            format!("webhook-disabled:{}:{}", endpoint.id, attempt.at.and_utc().timestamp()),
            &contact,
            Language::Nl,
            &reporting.base_url,
            &[],
        )
        .map_err(|e| ServiceError::Internal(e.into()))?;
        db::outbox::enqueue(conn, &message)?;
    }
    Ok(())
}
