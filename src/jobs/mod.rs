//! The scheduler: what happens to visits because time passes (a nudge to
//! the host halfway to expiry, expiry, a reminder two working days before
//! the day, completion the day after with the lessons forms, one
//! reminder about the forms a week later, a follow-up to the requester
//! three months after the visit, and closing requests nobody can answer
//! any more), the monthly digest to people who follow topics
//! (docs/digests.md), and the retention purge (docs/privacy.md) once every
//! `privacy.purge_interval_hours`. It runs inside `serve` and as
//! `meeloop jobs run-once`.
//!
//! Several instances may run it at once: each job is a conditional update
//! in its own transaction (the host's row locked first), so only one
//! instance finds work to do, and its emails carry idempotency keys.

pub mod webhooks;

use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::watch;

use crate::service::context::Context;
use crate::service::schedule::{self, Job};
use crate::service::visits::Closure;
use crate::service::ServiceError;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub nudged: usize,
    pub expired: usize,
    pub reminded: usize,
    pub completed: usize,
    /// Visits whose lessons forms were recalled to the sides that did not answer.
    pub lessons_reminded: usize,
    /// Requesters asked, three months on, what came of their visit.
    pub followed_up: usize,
    /// Requests closed because the invitation could not be delivered.
    pub closed_undeliverable: usize,
    /// Requests closed because none of their proposed days is left.
    pub closed_no_days_left: usize,
    /// Jobs that failed this round; they are tried again next round.
    pub failed: usize,
    /// Monthly digests: queued, empty (nothing new, no email) and failed.
    pub digests: crate::service::digests::Round,
    /// What the retention purge removed, when this round did it.
    pub purged: Option<crate::domain::privacy::Purged>,
}

impl Report {
    /// Visit jobs done (the purge not counted).
    pub fn total(&self) -> usize {
        self.nudged
            + self.expired
            + self.reminded
            + self.completed
            + self.lessons_reminded
            + self.followed_up
            + self.closed_undeliverable
            + self.closed_no_days_left
    }
}

#[derive(Clone)]
pub struct Scheduler {
    ctx: Context,
}

impl Scheduler {
    pub fn new(ctx: Context) -> Self {
        Scheduler { ctx }
    }

    /// One round now (by the context's clock).
    pub async fn run_once(&self) -> Result<Report, ServiceError> {
        self.run_at(self.ctx.now()).await
    }

    /// One round as if it were `now` (UTC). Tests move time with it.
    pub async fn run_at(&self, now: NaiveDateTime) -> Result<Report, ServiceError> {
        let round = self.round(now).await;
        crate::observe::scheduler_round(round.is_ok());
        round
    }

    async fn round(&self, now: NaiveDateTime) -> Result<Report, ServiceError> {
        let due = schedule::due_jobs(&self.ctx, now).await?;
        let mut report = Report::default();
        if !due.is_empty() {
            self.run_jobs(due, now, &mut report).await?;
        }
        report.digests = crate::service::digests::send_due(&self.ctx, now).await?;
        let d = report.digests;
        if d.sent + d.nothing_new + d.failed > 0 {
            tracing::info!(
                sent = d.sent,
                nothing_new = d.nothing_new,
                failed = d.failed,
                "monthly digests"
            );
            crate::observe::scheduler_jobs("digest", true, d.sent + d.nothing_new);
            crate::observe::scheduler_jobs("digest", false, d.failed);
        }
        report.purged = crate::service::privacy::scheduled_purge(&self.ctx, now).await?;
        if let Some(purged) = &report.purged {
            tracing::info!(total = purged.total(), "retention purge done");
            crate::observe::scheduler_job("purge", true);
        }
        Ok(report)
    }

    async fn run_jobs(
        &self,
        due: Vec<(crate::domain::visit::VisitId, Job)>,
        now: NaiveDateTime,
        report: &mut Report,
    ) -> Result<(), ServiceError> {
        let fanout = self.ctx.fanout().await?;
        for (id, job) in due {
            match schedule::run_job(&self.ctx, &fanout, id, job, now).await {
                Ok(None) => {}
                Ok(Some(done)) => {
                    tracing::info!(visit = %id, job = done.as_str(), "scheduled job done");
                    crate::observe::scheduler_job(done.as_str(), true);
                    match done {
                        Job::Nudge => report.nudged += 1,
                        Job::Expire => report.expired += 1,
                        Job::Remind => report.reminded += 1,
                        Job::Complete => report.completed += 1,
                        Job::RemindLessons => report.lessons_reminded += 1,
                        Job::FollowUp => report.followed_up += 1,
                        Job::Close(Closure::Undeliverable) => report.closed_undeliverable += 1,
                        Job::Close(Closure::NoDaysLeft) => report.closed_no_days_left += 1,
                    }
                }
                Err(e) => {
                    // One broken visit must not hold up the others.
                    tracing::warn!(visit = %id, job = job.as_str(), error = %e, "scheduled job failed");
                    crate::observe::scheduler_job(job.as_str(), false);
                    report.failed += 1;
                }
            }
        }
        Ok(())
    }

    /// Rounds every `interval` until `stop` turns true; a round in progress
    /// finishes first.
    pub async fn run(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "scheduler round failed; trying again next round");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}
