//! What operators watch: the figures `/metrics` reads when scraped
//! (docs/operations.md, "Monitoring").

use crate::db::{self, DbPool};
use crate::domain::mail::MessageState;
use crate::domain::webhook::{DeliveryState, EndpointStatus};
use crate::observe::Gauges;
use crate::service::context::Context;
use crate::service::ServiceError;

/// The shared queues (one consistent read) and this process's pool.
pub async fn gauges(ctx: &Context) -> Result<Gauges, ServiceError> {
    let now = ctx.now();
    let pool = ctx.pool.state();
    let database = match ctx.pool {
        DbPool::Sqlite(_) => "sqlite",
        DbPool::Pg(_) => "postgresql",
    };
    let age = move |at: Option<chrono::NaiveDateTime>| {
        at.map_or(0.0, |at| {
            ((now - at).num_milliseconds().max(0) as f64) / 1000.0
        })
    };
    ctx.pool
        .run(move |conn| {
            conn.read_consistent(|conn| {
                let outbox: Vec<(String, i64)> = db::outbox::counts(conn)?
                    .into_iter()
                    .map(|c| (c.state.as_str().to_string(), c.count))
                    .collect();
                let outbox = every_state(MessageState::ALL.map(|s| s.as_str()), &outbox);
                let deliveries = every_state(
                    DeliveryState::ALL.map(|s| s.as_str()),
                    &db::webhooks::state_counts(conn)?,
                );
                let oldest = db::outbox::oldest_waiting(conn)?.map(|w| w.queued_at);
                let mut endpoints = ["active", "paused", "held", "disabled", "failing"]
                    .map(|status| (status.to_string(), 0_i64));
                for switches in db::webhooks::endpoint_switches(conn)? {
                    let status =
                        EndpointStatus::of(switches.paused, switches.held, switches.disabled_at);
                    // Failing: still sending, and no success for a while.
                    let status = match status {
                        EndpointStatus::Active if switches.failing => "failing",
                        other => other.as_str(),
                    };
                    if let Some(slot) = endpoints.iter_mut().find(|(s, _)| s == status) {
                        slot.1 += 1;
                    }
                }
                Ok::<_, ServiceError>(Gauges {
                    database,
                    pool_connections: pool.connections,
                    pool_idle: pool.idle,
                    pool_max: pool.max,
                    outbox,
                    outbox_oldest_secs: age(oldest),
                    webhook_deliveries: deliveries,
                    webhook_oldest_secs: age(db::webhooks::oldest_waiting(conn)?),
                    webhook_endpoints: endpoints.into_iter().collect(),
                })
            })
        })
        .await
}

/// Every state in `states` with its count, zero included: an alert on a
/// series that is absent until the first dead message would never fire.
fn every_state<'a>(
    states: impl IntoIterator<Item = &'a str>,
    counts: &[(String, i64)],
) -> Vec<(String, i64)> {
    states
        .into_iter()
        .map(|state| {
            let n = counts
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            (state.to_string(), n)
        })
        .collect()
}
