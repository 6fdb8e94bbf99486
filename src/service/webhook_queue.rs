//! The webhook queue (docs/webhooks.md): what goes in — [`Webhooks`], the
//! event consumer that queues a signed delivery for every endpoint that
//! wants an event, in the transaction that made it happen, with public
//! fields only — and what comes back: the worker's report of each attempt
//! ([`record`]), which may switch an endpoint off. The use cases partners
//! and admins call are in `service::webhooks`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::events::{Consumer, Scene};
use super::{audit, ServiceError};
use crate::auth::jwt::random_hex;
use crate::db::webhooks::{self as repo, EndpointRow, NewDelivery};
use crate::db::{self, DbConn};
use crate::domain::event::Event;
use crate::domain::lesson::Publish;
use crate::domain::organisation::{Language, OrganisationId, OrganisationKind};
use crate::domain::partner::{Scope, Scopes};
use crate::domain::visit::VisitRole;
use crate::domain::webhook::{DeliveryState, EventType, EventTypes};
pub use crate::webhooks::Outcome;

// ---------------------------------------------------------------------
// What partners are told: the messages, built from public fields only.

/// A message as it is posted: Standard Webhooks' recommended shape.
#[derive(Debug, Serialize)]
pub(crate) struct Message<T: Serialize> {
    #[serde(rename = "type")]
    pub(crate) event_type: &'static str,
    /// When it happened (Meeloop's clock).
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) data: T,
}

/// `data` of the `visit.*` events: what happened to which visit, without
/// who: visits are not public, so the two organisations are not named.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookVisitData {
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
pub struct WebhookLessonData {
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
    pub lesson: Option<WebhookLessonText>,
}

/// A published lesson, as the knowledge base shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookLessonText {
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
pub struct WebhookOrganisationData {
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
pub struct WebhookTestData {
    pub endpoint_id: i64,
}

fn visit_data(scene: &Scene<'_>, event: &Event) -> Option<WebhookVisitData> {
    let v = &scene.parties?.visit;
    Some(WebhookVisitData {
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
) -> Result<Option<WebhookLessonData>, ServiceError> {
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
        super::published::shape(conn, vec![row], Language::Nl)?
            .pop()
            .map(|p| WebhookLessonText {
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
    Ok(Some(WebhookLessonData {
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
) -> Result<Option<WebhookOrganisationData>, ServiceError> {
    Ok(
        db::organisations::find(conn, id)?.map(|o| WebhookOrganisationData {
            organisation_id: o.id.0,
            code: o.code,
            name: o.name,
            kind: o.kind,
            province: o.province,
            active: o.active,
            changed: changed.to_vec(),
            updated_at: o.updated_at,
        }),
    )
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

pub(crate) fn queue<T: Serialize>(
    conn: &mut DbConn,
    endpoint: i64,
    message: &Message<T>,
) -> Result<i64, ServiceError> {
    let payload = serde_json::to_string(message).map_err(|e| ServiceError::Internal(e.into()))?;
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
    fn consume(
        &self,
        conn: &mut DbConn,
        scene: &Scene<'_>,
        event: &Event,
    ) -> Result<(), ServiceError> {
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
            format!(
                "webhook-disabled:{}:{}",
                endpoint.id,
                attempt.at.and_utc().timestamp()
            ),
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
