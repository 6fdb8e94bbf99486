//! Retention: the rows past their period (docs/privacy.md), counted or
//! removed a batch at a time, and the claim that lets one instance of
//! several do the scheduled purge.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{audit_log, followups, lessons, link_tokens, maintenance, outbox, visits};
use super::{dispatch, DbConn};
use crate::domain::lesson::Publish;
use crate::domain::mail::MessageState;
use crate::domain::privacy::{Cutoffs, PSEUDONYMISED};
use crate::domain::visit::VisitState;

/// What a purge goes through, one kind of row at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    AuditEntries,
    SentMessages,
    DeadMessages,
    LinkTokens,
    /// Used or expired invitation and reset links.
    AccountLinks,
    /// Used or expired unsubscribe links of the digest.
    UnsubscribeLinks,
    /// Ended or expired sessions.
    Sessions,
    /// Finished visits whose goal or reason is still there.
    VisitTexts,
    /// Unpublished lessons whose texts are still there.
    LessonTexts,
    FollowupTexts,
    /// Webhook deliveries delivered or given up (their attempts go with them).
    WebhookDeliveries,
}

impl Expired {
    pub const ALL: [Expired; 11] = [
        Expired::AuditEntries,
        Expired::SentMessages,
        Expired::DeadMessages,
        Expired::LinkTokens,
        Expired::AccountLinks,
        Expired::UnsubscribeLinks,
        Expired::Sessions,
        Expired::VisitTexts,
        Expired::LessonTexts,
        Expired::FollowupTexts,
        Expired::WebhookDeliveries,
    ];
}

fn final_states() -> Vec<&'static str> {
    VisitState::ALL
        .into_iter()
        .filter(|s| s.is_final())
        .map(VisitState::as_str)
        .collect()
}

/// The ids (or, for follow-ups, visit ids) of up to `limit` rows of `kind`
/// past `cut`; all of them when `limit` is `None`.
pub fn expired_ids(
    conn: &mut DbConn,
    kind: Expired,
    cut: &Cutoffs,
    limit: Option<i64>,
) -> QueryResult<Vec<i64>> {
    let limit = limit.unwrap_or(i64::MAX);
    match kind {
        Expired::AuditEntries => dispatch!(conn, c => audit_log::table
            .filter(audit_log::at.lt(cut.audit_log))
            .select(audit_log::id)
            .order(audit_log::id)
            .limit(limit)
            .load(c)),
        Expired::SentMessages => dispatch!(conn, c => outbox::table
            .filter(outbox::state.eq(MessageState::Sent.as_str()))
            .filter(outbox::sent_at.lt(cut.sent_mail))
            .select(outbox::id)
            .order(outbox::id)
            .limit(limit)
            .load(c)),
        Expired::DeadMessages => dispatch!(conn, c => outbox::table
            .filter(outbox::state.eq(MessageState::Dead.as_str()))
            .filter(outbox::given_up_at.lt(cut.dead_mail))
            .select(outbox::id)
            .order(outbox::id)
            .limit(limit)
            .load(c)),
        Expired::LinkTokens => dispatch!(conn, c => link_tokens::table
            .filter(
                link_tokens::used_at
                    .lt(cut.link_tokens)
                    .or(link_tokens::expires_at.lt(cut.link_tokens)),
            )
            .select(link_tokens::id)
            .order(link_tokens::id)
            .limit(limit)
            .load(c)),
        Expired::AccountLinks => super::sign_in::expired_ids(conn, cut.link_tokens, limit),
        Expired::UnsubscribeLinks => super::unsubscribe::expired_ids(conn, cut.link_tokens, limit),
        Expired::Sessions => super::sessions::expired_ids(conn, cut.link_tokens, limit),
        Expired::VisitTexts => dispatch!(conn, c => visits::table
            .filter(visits::state.eq_any(final_states()))
            .filter(visits::updated_at.lt(cut.free_text))
            .filter(visits::goal.ne(PSEUDONYMISED).or(visits::reason.is_not_null()))
            .select(visits::id)
            .order(visits::id)
            .limit(limit)
            .load(c)),
        Expired::LessonTexts => dispatch!(conn, c => lessons::table
            .filter(lessons::publish.eq(Publish::No.as_str()))
            .filter(lessons::submitted_at.lt(cut.free_text))
            .filter(lessons::strengths.ne(PSEUDONYMISED))
            .select(lessons::id)
            .order(lessons::id)
            .limit(limit)
            .load(c)),
        Expired::WebhookDeliveries => {
            super::webhooks::finished_before(conn, cut.webhook_log, limit)
        }
        Expired::FollowupTexts => dispatch!(conn, c => followups::table
            .filter(followups::answered_at.lt(cut.free_text))
            .filter(followups::changes.ne(PSEUDONYMISED))
            .filter(followups::changes.ne(""))
            .select(followups::visit_id)
            .order(followups::visit_id)
            .limit(limit)
            .load(c)),
    }
}

/// Deletes or pseudonymises the rows `ids` of `kind` (from
/// [`expired_ids`], in the same transaction); returns how many changed.
pub fn purge(conn: &mut DbConn, kind: Expired, ids: &[i64]) -> QueryResult<usize> {
    match kind {
        Expired::AuditEntries => dispatch!(conn, c => diesel::delete(
            audit_log::table.filter(audit_log::id.eq_any(ids))
        )
        .execute(c)),
        Expired::SentMessages | Expired::DeadMessages => dispatch!(conn, c => diesel::delete(
            outbox::table.filter(outbox::id.eq_any(ids))
        )
        .execute(c)),
        Expired::LinkTokens => dispatch!(conn, c => diesel::delete(
            link_tokens::table.filter(link_tokens::id.eq_any(ids))
        )
        .execute(c)),
        Expired::AccountLinks => super::sign_in::delete(conn, ids),
        Expired::UnsubscribeLinks => super::unsubscribe::delete(conn, ids),
        Expired::Sessions => super::sessions::delete(conn, ids),
        // The row stays (counts, ratings, reputation); the words go. Its
        // `updated_at` is left alone: it dates the visit, not the purge.
        Expired::VisitTexts => dispatch!(conn, c => diesel::update(
            visits::table.filter(visits::id.eq_any(ids))
        )
        .set((
            visits::goal.eq(PSEUDONYMISED),
            visits::reason.eq(None::<String>),
        ))
        .execute(c)),
        Expired::LessonTexts => dispatch!(conn, c => diesel::update(
            lessons::table.filter(lessons::id.eq_any(ids))
        )
        .set((
            lessons::situation.eq(PSEUDONYMISED),
            lessons::strengths.eq(PSEUDONYMISED),
            lessons::mistakes.eq(PSEUDONYMISED),
            lessons::recommendations.eq(PSEUDONYMISED),
            lessons::search_text.eq(""),
            lessons::author_id.eq(None::<i64>),
        ))
        .execute(c))
        .and_then(|n| {
            super::lessons::compact_search_index(conn)?;
            Ok(n)
        }),
        Expired::WebhookDeliveries => super::webhooks::delete_deliveries(conn, ids),
        Expired::FollowupTexts => dispatch!(conn, c => diesel::update(
            followups::table.filter(followups::visit_id.eq_any(ids))
        )
        .set(followups::changes.eq(PSEUDONYMISED))
        .execute(c)),
    }
}

/// Claims the chore `name` for this instance when nobody did it in the last
/// `every`: `true` means go ahead. A conditional update, so of several
/// instances asking at once exactly one gets it.
pub fn claim(
    conn: &mut DbConn,
    name: &str,
    now: NaiveDateTime,
    every: Duration,
) -> QueryResult<bool> {
    let never = chrono::DateTime::UNIX_EPOCH.naive_utc();
    dispatch!(conn, c => diesel::insert_into(maintenance::table)
        .values((maintenance::name.eq(name), maintenance::last_run_at.eq(never)))
        .on_conflict(maintenance::name)
        .do_nothing()
        .execute(c))?;
    let claimed = dispatch!(conn, c => diesel::update(
        maintenance::table
            .filter(maintenance::name.eq(name))
            .filter(maintenance::last_run_at.le(now - every)),
    )
    .set(maintenance::last_run_at.eq(now))
    .execute(c))?;
    Ok(claimed == 1)
}
