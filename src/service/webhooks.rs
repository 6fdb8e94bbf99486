//! Webhooks (docs/webhooks.md): partners register endpoints (scope
//! `webhooks:manage`), rotate secrets, read delivery logs and send
//! deliveries again; admins see and hold any endpoint. What is queued for
//! each event, and what the worker reports, is in `service::webhook_queue`.

use std::net::IpAddr;

use serde_json::json;
use tracing::instrument;

use super::context::Context;
use super::webhook_queue::{queue, Message};
use super::{audit, require_admin, require_scope, user_ref, ServiceError};
use crate::db::webhooks::{self as repo, EndpointChanges, EndpointRow, NewEndpoint};
use crate::db::{self, DbConn};
use crate::domain::account::User;
use crate::domain::partner::{Partner, Scope};
use crate::domain::refusal::WebhookRefusal;
use crate::domain::webhook::{
    AttemptLog, Delivery, DeliveryState, Endpoint, EndpointStatus, EventTypes, Secret, Target,
    TEST_EVENT,
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
            Manager::Admin(u) => require_admin(u),
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
    Ok(crate::domain::webhook::parse_description(
        &raw.unwrap_or_default(),
    )?)
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
                let details = json!({"url": row.url, "eventTypes": row.event_types});
                audit_endpoint(
                    conn,
                    &manager,
                    Some(address),
                    row.id,
                    "webhook.created",
                    details,
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

/// Whether the partner may manage webhooks at all: asked before a body is
/// read, so whoever may not learns nothing from what they send.
pub fn may_manage(partner: &Partner) -> Result<(), ServiceError> {
    Manager::Partner(partner.clone()).check()
}

/// Whether the partner may change endpoint `id` (it has the scope, and the
/// endpoint is its own); asked before a body is read.
pub async fn may_change(ctx: &Context, partner: &Partner, id: i64) -> Result<(), ServiceError> {
    let manager = Manager::Partner(partner.clone());
    manager.check()?;
    ctx.pool
        .run(move |conn| find_row(conn, &manager, id).map(|_| ()))
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
    let description = update
        .description
        .map(|d| description(Some(d)))
        .transpose()?;
    let resume = update.paused == Some(false);
    change_endpoint(ctx, manager, address, id, "webhook.updated", move |row| {
        if resume && row.held_by_admin {
            return Err(WebhookRefusal::HeldByAdmin { id }.into());
        }
        let event_types = update.event_types.as_ref().map(EventTypes::stored);
        let details = json!({"url": url, "eventTypes": event_types, "paused": update.paused});
        let changes = EndpointChanges {
            url,
            description,
            event_types,
            paused: update.paused,
            disabled_at: resume.then_some(None),
            failing_since: resume.then_some(None),
            ..EndpointChanges::default()
        };
        Ok((changes, details))
    })
    .await
}

/// One change to one endpoint the manager may see, in one transaction,
/// audited as `action`: `change` reads the stored row and says what to set
/// and what the audit entry records (or refuses).
async fn change_endpoint(
    ctx: &Context,
    manager: Manager,
    address: IpAddr,
    id: i64,
    action: &'static str,
    change: impl FnOnce(&EndpointRow) -> Result<(EndpointChanges, serde_json::Value), ServiceError>
        + Send
        + 'static,
) -> Result<Endpoint, ServiceError> {
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let row = find_row(conn, &manager, id)?;
                let (changes, details) = change(&row)?;
                let changes = EndpointChanges {
                    updated_at: Some(now),
                    ..changes
                };
                let row = repo::update_endpoint(conn, id, &changes)?;
                audit_endpoint(conn, &manager, Some(address), id, action, details)?;
                endpoint_of(row)
            })
        })
        .await
}

/// The audit entry of an action on endpoint `id`.
fn audit_endpoint(
    conn: &mut DbConn,
    manager: &Manager,
    address: Option<IpAddr>,
    id: i64,
    action: &str,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    let subject = Some(format!("webhook:{id}"));
    audit(conn, manager.actor(), action, address, subject, details)
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
                audit_endpoint(
                    conn,
                    &manager,
                    Some(address),
                    id,
                    "webhook.deleted",
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
    let until = ctx.now() + ctx.webhooks.overlap;
    let secret = new_secret();
    let exposed = secret.expose();
    let action = "webhook.secret_rotated";
    let endpoint = change_endpoint(ctx, manager, address, id, action, move |row| {
        let changes = EndpointChanges {
            secret: Some(exposed),
            previous_secret: Some(Some(row.secret.clone())),
            previous_until: Some(Some(until)),
            ..EndpointChanges::default()
        };
        Ok((changes, json!({"previousValidUntil": until})))
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
                audit_endpoint(
                    conn,
                    &manager,
                    Some(address),
                    id,
                    "webhook.tested",
                    json!({"delivery": delivery}),
                )?;
                one_delivery(conn, id, delivery)
            })
        })
        .await
}

fn one_delivery(conn: &mut DbConn, endpoint: i64, id: i64) -> Result<Delivery, ServiceError> {
    let row =
        repo::find_delivery(conn, endpoint, id)?.ok_or(WebhookRefusal::UnknownDelivery { id })?;
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
                audit_endpoint(
                    conn,
                    &manager,
                    Some(address),
                    endpoint,
                    "webhook.redelivered",
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
    let action = if held {
        "webhook.held"
    } else {
        "webhook.resumed"
    };
    change_endpoint(ctx, manager, address, id, action, move |_| {
        let changes = EndpointChanges {
            held_by_admin: Some(held),
            disabled_at: (!held).then_some(None),
            failing_since: (!held).then_some(None),
            ..EndpointChanges::default()
        };
        Ok((changes, json!({})))
    })
    .await
}
