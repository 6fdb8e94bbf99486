//! Mail use cases for operators and admins: queue a test message, see the
//! queue, requeue dead messages. Other use cases queue their own emails
//! inside their own transactions (`mail::templates::compose` + `db::outbox::enqueue`).

use crate::service::context::Context;
use std::net::IpAddr;

use serde_json::json;

use super::admin::require_admin;
use super::{audit, user_ref, ServiceError};
use crate::db::outbox::{self, Enqueued};
use crate::domain::account::User;
use crate::domain::mail::MessageSummary as Summary;
use crate::domain::mail::{MessageState, Waiting};
use crate::domain::organisation::Language;
use crate::domain::refusal::OutboxRefusal;
use crate::domain::Invalid;
use crate::mail::emails::TestMessage;
use crate::mail::templates::compose;

/// The state of the queue at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStatus {
    /// Every state, zero included, in the order of `MessageState::ALL`.
    pub counts: Vec<(MessageState, i64)>,
    pub oldest_waiting: Option<Waiting>,
    pub recent_errors: Vec<Summary>,
}

impl QueueStatus {
    pub fn count(&self, state: MessageState) -> i64 {
        self.counts
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n)
    }
}

/// Queues `count` test messages to `to` (each call new ones, one
/// transaction); returns their ids. More than one checks a relay's pace.
pub async fn queue_test(
    ctx: &Context,
    to: &str,
    language: Language,
    count: u32,
) -> Result<Vec<i64>, ServiceError> {
    let base_url = ctx.base_url.as_str();
    let to = to.trim().to_string();
    if to.parse::<lettre::Address>().is_err() {
        return Err(Invalid::new(format!("'{to}' is not an email address")).into());
    }
    if !(1..=10_000).contains(&count) {
        return Err(Invalid::new("count must be 1 to 10,000").into());
    }
    let local = ctx
        .now()
        .and_utc()
        .with_timezone(&chrono_tz::Europe::Amsterdam);
    let message = compose(
        &TestMessage {
            recipient: to.clone(),
            queued_at: local.format("%d-%m-%Y %H:%M").to_string(),
        },
        String::new(),
        &to,
        language,
        base_url,
        &[],
    )
    .map_err(|e| ServiceError::Internal(e.into()))?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let mut ids = Vec::with_capacity(count as usize);
                let mut message = message;
                for _ in 0..count {
                    message.idempotency_key = format!("test:{}", uuid_like());
                    match outbox::enqueue(conn, &message)? {
                        Enqueued::Queued(id) | Enqueued::AlreadyQueued(id) => ids.push(id),
                    }
                }
                audit(
                    conn,
                    "cli".into(),
                    "mail.test_queued",
                    None,
                    None,
                    json!({"recipient": to, "messages": count}),
                )?;
                Ok(ids)
            })
        })
        .await
}

/// A random 128-bit hex string, so every test message has its own key.
fn uuid_like() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub async fn status(ctx: &Context) -> Result<QueueStatus, ServiceError> {
    ctx.pool
        .run(|conn| {
            conn.read_consistent(|conn| {
                let counts = outbox::counts(conn)?;
                let counts = MessageState::ALL
                    .into_iter()
                    .map(|s| {
                        let n = counts.iter().find(|c| c.state == s).map_or(0, |c| c.count);
                        (s, n)
                    })
                    .collect();
                Ok(QueueStatus {
                    counts,
                    oldest_waiting: outbox::oldest_waiting(conn)?,
                    recent_errors: outbox::recent_errors(conn, 5)?,
                })
            })
        })
        .await
}

/// One message, for `meeloop mail send-test` to report on.
pub async fn message(ctx: &Context, id: i64) -> Result<Summary, ServiceError> {
    ctx.pool
        .run(move |conn| {
            outbox::find(conn, id)?.ok_or_else(|| OutboxRefusal::UnknownMessage { id }.into())
        })
        .await
}

/// `meeloop mail requeue --dead`: every dead message (or one) gets a fresh
/// set of attempts, due now. Returns how many.
pub async fn requeue_dead(ctx: &Context, only: Option<i64>) -> Result<usize, ServiceError> {
    let now = ctx.now();
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let n = outbox::requeue_dead(conn, only, now)?;
                if n > 0 {
                    audit(
                        conn,
                        "cli".into(),
                        "mail.requeued",
                        None,
                        only.map(|id| format!("outbox:{id}")),
                        json!({"messages": n}),
                    )?;
                }
                Ok(n)
            })
        })
        .await
}

/// A page of the queue for an admin, newest first, and its status.
pub async fn outbox_page(
    ctx: &Context,
    admin: User,
    state: Option<MessageState>,
    before: Option<i64>,
    limit: i64,
) -> Result<(QueueStatus, Vec<Summary>, Option<i64>), ServiceError> {
    require_admin(&admin)?;
    let status = status(ctx).await?;
    let (items, next) = ctx
        .pool
        .run(move |conn| {
            let mut items = outbox::page(conn, state, before, limit + 1)?;
            let next = if items.len() as i64 > limit {
                items.truncate(limit as usize);
                items.last().map(|m| m.id)
            } else {
                None
            };
            Ok::<_, ServiceError>((items, next))
        })
        .await?;
    Ok((status, items, next))
}

/// An admin requeues one dead message.
pub async fn requeue(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    id: i64,
) -> Result<Summary, ServiceError> {
    let now = ctx.now();
    require_admin(&admin)?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let Some(message) = outbox::find(conn, id)? else {
                    return Err(OutboxRefusal::UnknownMessage { id }.into());
                };
                if message.state != MessageState::Dead {
                    return Err(OutboxRefusal::NotDead {
                        id,
                        state: message.state.to_string(),
                    }
                    .into());
                }
                outbox::requeue_dead(conn, Some(id), now)?;
                audit(
                    conn,
                    user_ref(admin.id),
                    "mail.requeued",
                    Some(address),
                    Some(format!("outbox:{id}")),
                    json!({"messages": 1}),
                )?;
                outbox::find(conn, id)?.ok_or_else(|| OutboxRefusal::UnknownMessage { id }.into())
            })
        })
        .await
}
