//! The delivery worker: claims due messages in a short transaction, sends
//! them outside any transaction, then records what happened.

use chrono::{Duration, Utc};
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
    let mut round = Round::default();
    for claim in claimed {
        let outcome = match super::build(&claim, &sender.from, &sender.domain) {
            Ok(message) => transport.send(message).await,
            Err(failure) => Err(failure),
        };
        let recorded = record(pool, &sender.policy, claim, outcome, &mut round).await?;
        if !recorded {
            round.lost_claims += 1;
        }
    }
    Ok(round)
}

async fn record(
    pool: &DbPool,
    policy: &RetryPolicy,
    claim: Claimed,
    outcome: Result<(), SendFailure>,
    round: &mut Round,
) -> Result<bool, DbError> {
    match outcome {
        Ok(()) => {
            let done = pool
                .run(move |conn| {
                    Ok::<_, DbError>(outbox::mark_sent(conn, &claim, crate::db::now())?)
                })
                .await?;
            round.sent += usize::from(done);
            Ok(done)
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
            if done {
                match retry_at {
                    Some(_) => round.retrying += 1,
                    None => round.dead += 1,
                }
            }
            Ok(done)
        }
    }
}
