//! The delivery worker: claims due messages in a short transaction, sends
//! them outside any transaction, then records what happened.

use chrono::{Duration, Utc};
use futures_util::stream::{self, StreamExt};
use lettre::message::Mailbox;

use super::transport::Transport;
use crate::db::outbox::{self, Claimed};
use crate::db::{DbError, DbPool};
use crate::domain::mail::{AfterFailure, RetryPolicy, SendFailure};

/// Who sends, and how the worker paces itself.
#[derive(Debug, Clone)]
pub struct Sender {
    pub from: Mailbox,
    /// For Message-IDs: `<outbox-{id}@{domain}>`.
    pub domain: String,
    pub policy: RetryPolicy,
    /// How long a claim holds; longer than one batch can take to send.
    pub lease: Duration,
    pub batch: i64,
    /// Messages in flight at once (the SMTP pool holds as many connections).
    pub concurrency: usize,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Reports refused because the claim had passed to another worker.
    pub lost_claims: usize,
}

impl Round {
    pub fn claimed(&self) -> usize {
        self.sent + self.retrying + self.dead + self.lost_claims
    }
}

/// One round: claim up to `sender.batch` due messages and deliver them.
pub async fn deliver_once(
    pool: &DbPool,
    transport: &Transport,
    sender: &Sender,
) -> Result<Round, DbError> {
    let now = crate::db::now();
    let lease_until = now + sender.lease;
    let batch = sender.batch;
    let claimed = pool
        .run(move |conn| Ok::<_, DbError>(outbox::claim_due(conn, now, lease_until, batch)?))
        .await?;
    // Sent concurrently, each outcome recorded as soon as it is known, so
    // a crash mid-batch repeats at most the messages still in flight.
    let outcomes: Vec<Result<Outcome, DbError>> = stream::iter(claimed)
        .map(|claim| async move {
            let outcome = match super::build(&claim, &sender.from, &sender.domain) {
                Ok(message) => transport.send(message).await,
                Err(failure) => Err(failure),
            };
            record(pool, &sender.policy, claim, outcome).await
        })
        .buffer_unordered(sender.concurrency.max(1))
        .collect()
        .await;
    let mut round = Round::default();
    for outcome in outcomes {
        match outcome? {
            Outcome::Sent => {
                round.sent += 1;
                crate::observe::mail_attempt(crate::observe::Attempt::Delivered);
            }
            Outcome::Retrying => {
                round.retrying += 1;
                crate::observe::mail_attempt(crate::observe::Attempt::Retry);
            }
            Outcome::Dead => {
                round.dead += 1;
                crate::observe::mail_attempt(crate::observe::Attempt::Dead);
            }
            Outcome::LostClaim => round.lost_claims += 1,
        }
    }
    Ok(round)
}

enum Outcome {
    Sent,
    Retrying,
    Dead,
    LostClaim,
}

async fn record(
    pool: &DbPool,
    policy: &RetryPolicy,
    claim: Claimed,
    outcome: Result<(), SendFailure>,
) -> Result<Outcome, DbError> {
    match outcome {
        Ok(()) => {
            let done = pool
                .run(move |conn| {
                    Ok::<_, DbError>(outbox::mark_sent(conn, &claim, crate::db::now())?)
                })
                .await?;
            Ok(if done {
                Outcome::Sent
            } else {
                Outcome::LostClaim
            })
        }
        Err(failure) => {
            let attempts = u32::try_from(claim.attempts).unwrap_or(u32::MAX);
            let next = policy.after_failure(attempts, &failure, Utc::now(), rand::random::<f64>());
            let reason = match &failure {
                SendFailure::Temporary(r) | SendFailure::Permanent(r) => r.clone(),
            };
            tracing::warn!(outbox = claim.id, attempts, %reason, "email not delivered");
            let retry_at = match next {
                AfterFailure::RetryAt(at) => Some(at.naive_utc()),
                AfterFailure::Dead => None,
            };
            let done = pool
                .run(move |conn| {
                    Ok::<_, DbError>(outbox::mark_failed(conn, &claim, &reason, retry_at)?)
                })
                .await?;
            Ok(match (done, retry_at) {
                (false, _) => Outcome::LostClaim,
                (true, Some(_)) => Outcome::Retrying,
                (true, None) => Outcome::Dead,
            })
        }
    }
}

/// Rounds until nothing is due (or a round only fails): for
/// `meeloop mail deliver --once` and `send-test`.
pub async fn drain(
    pool: &DbPool,
    transport: &Transport,
    sender: &Sender,
) -> Result<Round, DbError> {
    let mut total = Round::default();
    loop {
        let round = deliver_once(pool, transport, sender).await?;
        total.sent += round.sent;
        total.retrying += round.retrying;
        total.dead += round.dead;
        total.lost_claims += round.lost_claims;
        // A short batch means the queue is empty; a batch with no success
        // means the relay is down: stop rather than spin.
        if round.claimed() < usize::try_from(sender.batch).unwrap_or(usize::MAX) || round.sent == 0
        {
            return Ok(total);
        }
    }
}

/// The worker inside `meeloop serve`: a round, then the next one at once
/// when the batch was full, otherwise after `poll`. Stops when `stop`
/// changes, after finishing (and recording) the round in progress.
pub async fn run(
    pool: DbPool,
    transport: Transport,
    sender: Sender,
    poll: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tracing::info!(batch = sender.batch, "mail delivery worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = match deliver_once(&pool, &transport, &sender).await {
            Ok(round) => {
                if round.claimed() > 0 {
                    tracing::info!(
                        sent = round.sent,
                        retrying = round.retrying,
                        dead = round.dead,
                        "mail round"
                    );
                }
                let full = round.claimed() >= usize::try_from(sender.batch).unwrap_or(usize::MAX);
                if full && round.sent > 0 {
                    std::time::Duration::ZERO
                } else {
                    poll
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "mail round failed; trying again");
                poll.max(std::time::Duration::from_secs(1))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
    }
    tracing::info!("mail delivery worker stopped");
}
