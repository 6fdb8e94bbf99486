//! The webhook delivery worker: claims due deliveries in a short transaction,
//! posts them outside any transaction, signed, then records each attempt
//! (`service::webhooks::record`). Several workers on one database never
//! send the same claim: PostgreSQL skips rows another worker is claiming,
//! SQLite lets one claimer in at a time, and a report must name its lease.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::config::Settings;
use crate::db::webhooks::{self as repo, EndpointRow};
use crate::db::{DbError, DbPool};
use crate::domain::webhook::AllowedHosts;
use crate::service::webhook_queue::{record, Recorded, Reporting};
use crate::service::ServiceError;
use crate::webhooks::{failure, post};

/// Who delivers, and how the worker paces itself.
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    /// Hosts the operator allows to resolve to private addresses.
    allowed: AllowedHosts,
    pub reporting: Reporting,
    /// How long a claim holds; longer than a batch can take.
    pub lease: chrono::Duration,
    pub batch: i64,
    pub concurrency: usize,
    pub poll: Duration,
}

impl Deliverer {
    pub fn from_settings(settings: &Settings, base_url: &str) -> Result<Self, String> {
        let w = &settings.webhooks;
        w.validate()?;
        let allowed = AllowedHosts::new(&w.allowed_hosts);
        Ok(Deliverer {
            client: crate::webhooks::client(&allowed, Duration::from_millis(w.timeout_ms))?,
            allowed,
            reporting: Reporting {
                schedule: w.schedule(),
                disable_after: chrono::Duration::seconds(w.disable_after_secs),
                base_url: base_url.trim_end_matches('/').to_string(),
            },
            lease: chrono::Duration::seconds(w.lease_secs),
            batch: w.batch_size,
            concurrency: w.concurrency,
            poll: Duration::from_millis(w.poll_interval_ms),
        })
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
    pub lost_claims: usize,
}

impl Round {
    pub fn claimed(&self) -> usize {
        self.delivered + self.retrying + self.dead + self.lost_claims
    }
}

/// One round: claim up to `batch` due deliveries and post them.
pub async fn deliver_once(pool: &DbPool, deliverer: &Deliverer) -> Result<Round, ServiceError> {
    let now = crate::db::now();
    let lease_until = now + deliverer.lease;
    let batch = deliverer.batch;
    let (claimed, endpoints) = pool
        .run(move |conn| {
            let claimed = repo::claim_due(conn, now, lease_until, batch)?;
            let mut ids: Vec<i64> = claimed.iter().map(|c| c.endpoint_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let endpoints: HashMap<i64, EndpointRow> = repo::endpoints(conn, &ids)?
                .into_iter()
                .map(|e| (e.id, e))
                .collect();
            Ok::<_, DbError>((claimed, endpoints))
        })
        .await?;
    let outcomes: Vec<Result<Recorded, ServiceError>> = stream::iter(claimed)
        .map(|claim| {
            let endpoint = endpoints.get(&claim.endpoint_id).cloned();
            async move {
                let outcome = match &endpoint {
                    Some(endpoint) => {
                        post(&deliverer.client, &deliverer.allowed, endpoint, &claim).await
                    }
                    None => failure("the endpoint was deleted", Duration::ZERO),
                };
                if !outcome.delivered {
                    tracing::warn!(
                        delivery = claim.id,
                        endpoint = claim.endpoint_id,
                        attempts = claim.attempts,
                        error = outcome.attempt.error.as_deref().unwrap_or(""),
                        "webhook not delivered"
                    );
                }
                let reporting = deliverer.reporting.clone();
                pool.run(move |conn| record(conn, &reporting, &claim, &outcome, rand::random()))
                    .await
            }
        })
        .buffer_unordered(deliverer.concurrency.max(1))
        .collect()
        .await;
    let mut round = Round::default();
    for outcome in outcomes {
        match outcome? {
            Recorded::Delivered => {
                round.delivered += 1;
                crate::observe::webhook_attempt(crate::observe::Attempt::Delivered);
            }
            Recorded::Retrying => {
                round.retrying += 1;
                crate::observe::webhook_attempt(crate::observe::Attempt::Retry);
            }
            Recorded::Dead => {
                round.dead += 1;
                crate::observe::webhook_attempt(crate::observe::Attempt::Dead);
            }
            Recorded::LostClaim => round.lost_claims += 1,
        }
    }
    Ok(round)
}

/// The worker inside `meeloop serve`: a round, then the next at once when
/// the batch was full, otherwise after `poll`. Stops when `stop` changes,
/// after recording the round in progress.
pub async fn run(pool: DbPool, deliverer: Deliverer, mut stop: tokio::sync::watch::Receiver<bool>) {
    tracing::info!(batch = deliverer.batch, "webhook delivery worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = match deliver_once(&pool, &deliverer).await {
            Ok(round) => {
                if round.claimed() > 0 {
                    tracing::info!(
                        delivered = round.delivered,
                        retrying = round.retrying,
                        dead = round.dead,
                        "webhook round"
                    );
                }
                let full =
                    round.claimed() >= usize::try_from(deliverer.batch).unwrap_or(usize::MAX);
                if full {
                    Duration::ZERO
                } else {
                    deliverer.poll
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook round failed; trying again");
                deliverer.poll.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
    }
    tracing::info!("webhook delivery worker stopped");
}
