//! Retention (docs/privacy.md): what is past its period is deleted, or its
//! free text replaced, by the scheduler (one instance of several, every
//! `privacy.purge_interval_hours`) or by an operator
//! (`meeloop privacy purge [--dry-run]`). Batched: each batch is a
//! transaction of its own, so a long purge never holds the database.

use serde_json::json;

mod erase;
mod export;
pub use erase::{erase_by_operator, erase_for_admin, Erased, ERASED};
pub use export::{
    describe, export_by_operator, export_for_admin, export_own, limiter, Export, Whose,
};

use super::context::Context;
use super::{audit, ServiceError};
use crate::db::privacy::{self as repo, Expired};
use crate::domain::privacy::Purged;

/// Exports and erasures read every table: one at a time per instance, so
/// that they never crowd the pool or the processors out from under the
/// requests of everyone else.
static WHOLE_TABLES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Waits for the turn to read whole tables.
pub(super) async fn whole_tables() -> Result<tokio::sync::SemaphorePermit<'static>, ServiceError> {
    WHOLE_TABLES
        .acquire()
        .await
        .map_err(|e| ServiceError::Internal(e.into()))
}

/// Rows per transaction.
const BATCH: i64 = 500;
/// The chore's name in `maintenance`.
const CHORE: &str = "retention";

/// Purges what is past its retention period at `now` (the context's time
/// but for the scheduler's rounds), or with `dry_run` only counts it. A real
/// purge is audited (by `actor`) with its counts; the entry itself is new,
/// so it stays.
pub async fn purge(
    ctx: &Context,
    actor: &str,
    now: chrono::NaiveDateTime,
    dry_run: bool,
) -> Result<Purged, ServiceError> {
    let cut = ctx.retention.cutoffs(now);
    let mut purged = Purged::default();
    for kind in Expired::ALL {
        let n = if dry_run {
            ctx.pool
                .run(move |conn| {
                    Ok::<_, ServiceError>(repo::expired_ids(conn, kind, &cut, None)?.len())
                })
                .await?
        } else {
            let mut total = 0;
            loop {
                let done = ctx
                    .pool
                    .run(move |conn| {
                        conn.write(|conn| {
                            let ids = repo::expired_ids(conn, kind, &cut, Some(BATCH))?;
                            Ok::<_, ServiceError>((ids.len(), repo::purge(conn, kind, &ids)?))
                        })
                    })
                    .await?;
                total += done.1;
                if done.0 < BATCH as usize {
                    break total;
                }
            }
        };
        *count_of(&mut purged, kind) += n;
    }
    if let Some(folder) = ctx.mail_folder.clone() {
        let files = crate::mail::files::written_before(&folder, cut.mail_files).map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!("mail folder {}: {e}", folder.display()))
        })?;
        purged.mail_files = if dry_run {
            files.len()
        } else {
            crate::mail::files::remove(&files)
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!("mail files: {e}")))?
        };
    }
    if !dry_run {
        let (actor, details) = (
            actor.to_string(),
            json!({ "purged": purged, "retention": ctx.retention }),
        );
        ctx.pool
            .run(move |conn| {
                conn.write(|conn| audit(conn, actor, "privacy.purged", None, None, details))
            })
            .await?;
    }
    Ok(purged)
}

/// The scheduler's purge at `now`: `None` when this or another instance
/// purged less than `purge_interval_hours` ago.
pub async fn scheduled_purge(
    ctx: &Context,
    now: chrono::NaiveDateTime,
) -> Result<Option<Purged>, ServiceError> {
    let every = ctx.retention.purge_interval();
    let claimed = ctx
        .pool
        .run(move |conn| {
            conn.write(|conn| Ok::<_, ServiceError>(repo::claim(conn, CHORE, now, every)?))
        })
        .await?;
    if !claimed {
        return Ok(None);
    }
    purge(ctx, "scheduler", now, false).await.map(Some)
}

fn count_of(p: &mut Purged, kind: Expired) -> &mut usize {
    match kind {
        Expired::AuditEntries => &mut p.audit_entries,
        Expired::SentMessages => &mut p.sent_messages,
        Expired::DeadMessages => &mut p.dead_messages,
        Expired::LinkTokens | Expired::AccountLinks | Expired::UnsubscribeLinks => {
            &mut p.link_tokens
        }
        Expired::Sessions => &mut p.sessions,
        Expired::VisitTexts => &mut p.visit_texts,
        Expired::LessonTexts => &mut p.lesson_texts,
        Expired::FollowupTexts => &mut p.followup_texts,
        Expired::WebhookDeliveries => &mut p.webhook_deliveries,
    }
}
