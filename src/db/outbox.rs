//! The outbox: email queued with the change that causes it, claimed and
//! delivered by workers afterwards.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::outbox;
use super::{dispatch, DbConn};
use diesel::result::Error::DeserializationError;

use crate::domain::mail::{MessageState, MessageSummary, Waiting};

/// An email to queue, rendered.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMessage {
    pub idempotency_key: String,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// JSON list of `{filename, contentType, base64}`.
    pub attachments: String,
    /// For a mailing (the digest): the one-click unsubscribe link, sent as
    /// `List-Unsubscribe` (RFC 8058).
    pub list_unsubscribe: Option<String>,
}

/// What queuing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued(i64),
    /// A message with this idempotency key was queued before; nothing added.
    AlreadyQueued(i64),
}

/// Queues a message, once per idempotency key, due at once (by the wall
/// clock the delivery worker runs on). Call it inside the transaction of
/// the change that causes the email.
pub fn enqueue(conn: &mut DbConn, message: &NewMessage) -> QueryResult<Enqueued> {
    let now = super::now();
    let queued = (
        message,
        outbox::state.eq(MessageState::Pending.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::created_at.eq(now),
    );
    let inserted: Option<i64> = dispatch!(conn, c => diesel::insert_into(outbox::table)
        .values(queued)
        .on_conflict(outbox::idempotency_key)
        .do_nothing()
        .returning(outbox::id)
        .get_result(c)
        .optional())?;
    match inserted {
        Some(id) => Ok(Enqueued::Queued(id)),
        None => {
            let id = dispatch!(conn, c => outbox::table
                .filter(outbox::idempotency_key.eq(&message.idempotency_key))
                .select(outbox::id)
                .first(c))?;
            Ok(Enqueued::AlreadyQueued(id))
        }
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Deletes the messages to any of `recipients` (lower case) that have not
/// gone out (pending, or being sent: a worker's report then finds no row);
/// returns how many.
pub fn delete_unsent_to(conn: &mut DbConn, recipients: &[String]) -> QueryResult<usize> {
    use outbox::dsl as o;
    let unsent = [
        MessageState::Pending.as_str(),
        MessageState::Sending.as_str(),
    ];
    dispatch!(conn, c => diesel::delete(
        o::outbox
            .filter(o::state.eq_any(unsent))
            .filter(lower(o::recipient).eq_any(recipients)),
    )
    .execute(c))
}

/// A message a worker has claimed and must now send.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Claimed {
    pub id: i64,
    pub idempotency_key: String,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: String,
    pub list_unsubscribe: Option<String>,
    /// Including this one.
    pub attempts: i32,
    /// The claim: reports must name it, so a worker whose lease ran out
    /// (and whose message another worker took) cannot overwrite the outcome.
    pub lease_until: Option<NaiveDateTime>,
}

/// Claims up to `limit` due messages until `lease_until`: pending ones whose
/// time has come, and ones whose previous worker's lease ran out (it
/// crashed). PostgreSQL skips rows another worker is claiming; SQLite's
/// immediate transaction lets one claimer in at a time.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    use outbox::dsl as o;
    conn.write(|conn| {
        let due = o::state
            .eq(MessageState::Pending.as_str())
            .and(o::next_attempt_at.le(now))
            .or(o::state
                .eq(MessageState::Sending.as_str())
                .and(o::lease_until.lt(now)));
        let ids: Vec<i64> = match conn {
            DbConn::Sqlite(c) => o::outbox
                .filter(due)
                .order((o::next_attempt_at.asc(), o::id.asc()))
                .limit(limit)
                .select(o::id)
                .load(&mut **c)?,
            DbConn::Pg(c) => o::outbox
                .filter(due)
                .order((o::next_attempt_at.asc(), o::id.asc()))
                .limit(limit)
                .select(o::id)
                .for_update()
                .skip_locked()
                .load(&mut **c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<Claimed> = dispatch!(conn, c => diesel::update(o::outbox.filter(o::id.eq_any(&ids)))
            .set((
                o::state.eq(MessageState::Sending.as_str()),
                o::lease_until.eq(Some(lease_until)),
                o::attempts.eq(o::attempts + 1),
            ))
            .returning(Claimed::as_returning())
            .get_results(c))?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    })
}

/// Records a delivery; `false` when the claim is no longer this worker's.
/// The body and attachments are dropped: they may hold single-use links
/// and personal data, and nothing needs them once the message is out.
pub fn mark_sent(conn: &mut DbConn, claim: &Claimed, now: NaiveDateTime) -> QueryResult<bool> {
    use outbox::dsl as o;
    let changed = dispatch!(conn, c => diesel::update(
        o::outbox
            .filter(o::id.eq(claim.id))
            .filter(o::state.eq(MessageState::Sending.as_str()))
            .filter(o::lease_until.eq(claim.lease_until)),
    )
    .set((
        o::state.eq(MessageState::Sent.as_str()),
        o::sent_at.eq(Some(now)),
        o::body_text.eq(""),
        o::body_html.eq(""),
        o::attachments.eq("[]"),
        o::list_unsubscribe.eq(None::<String>),
        o::lease_until.eq(None::<NaiveDateTime>),
        o::last_error.eq(None::<String>),
    ))
    .execute(c))?;
    Ok(changed > 0)
}

/// Records a failed attempt: back to pending until `retry_at`, or dead
/// when there is none; `false` when the claim is no longer this worker's.
pub fn mark_failed(
    conn: &mut DbConn,
    claim: &Claimed,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    use outbox::dsl as o;
    let (state, next) = match retry_at {
        Some(at) => (MessageState::Pending, Some(at)),
        None => (MessageState::Dead, None),
    };
    let error: String = error.chars().take(1000).collect();
    let changed = dispatch!(conn, c => {
        let target = o::outbox
            .filter(o::id.eq(claim.id))
            .filter(o::state.eq(MessageState::Sending.as_str()))
            .filter(o::lease_until.eq(claim.lease_until));
        match next {
            Some(at) => diesel::update(target)
                .set((o::state.eq(state.as_str()), o::next_attempt_at.eq(at), o::lease_until.eq(None::<NaiveDateTime>), o::last_error.eq(Some(&error))))
                .execute(c),
            None => diesel::update(target)
                .set((o::state.eq(state.as_str()), o::lease_until.eq(None::<NaiveDateTime>), o::last_error.eq(Some(&error)), o::given_up_at.eq(Some(super::now()))))
                .execute(c),
        }
    })?;
    Ok(changed > 0)
}

/// How many messages are in one state.
#[derive(Debug, Clone, Queryable)]
pub struct StateCount {
    #[diesel(deserialize_as = String)]
    pub state: MessageState,
    pub count: i64,
}

/// How many messages are in each state that has any.
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<StateCount>> {
    use diesel::dsl::count_star;
    dispatch!(conn, c => outbox::table
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .order(outbox::state.asc())
        .load(c))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SummaryRow {
    pub id: i64,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub subject: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl SummaryRow {
    fn into_summary(self) -> QueryResult<MessageSummary> {
        Ok(MessageSummary {
            id: self.id,
            recipient: self.recipient,
            language: self.language,
            template: self.template,
            subject: self.subject,
            state: self
                .state
                .parse()
                .map_err(|e: crate::domain::Invalid| DeserializationError(e.message.into()))?,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            created_at: self.created_at,
            sent_at: self.sent_at,
        })
    }
}

fn summaries(rows: Vec<SummaryRow>) -> QueryResult<Vec<MessageSummary>> {
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Newest first: messages with an id below `before`, optionally in one state.
pub fn page(
    conn: &mut DbConn,
    state: Option<MessageState>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<MessageSummary>> {
    use outbox::dsl as o;
    let rows: Vec<SummaryRow> = dispatch!(conn, c => {
        let mut query = o::outbox
            .filter(o::id.lt(before.unwrap_or(i64::MAX)))
            .order(o::id.desc())
            .limit(limit)
            .select(SummaryRow::as_select())
            .into_boxed();
        if let Some(state) = state {
            query = query.filter(o::state.eq(state.as_str()));
        }
        query.load(c)
    })?;
    summaries(rows)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<MessageSummary>> {
    let row: Option<SummaryRow> = dispatch!(conn, c => outbox::table
        .find(id)
        .select(SummaryRow::as_select())
        .first(c)
        .optional())?;
    row.map(SummaryRow::into_summary).transpose()
}

/// The oldest message still waiting (pending or sending).
pub fn oldest_waiting(conn: &mut DbConn) -> QueryResult<Option<Waiting>> {
    use outbox::dsl as o;
    let row: Option<(NaiveDateTime, NaiveDateTime)> = dispatch!(conn, c => o::outbox
        .filter(o::state.eq_any([MessageState::Pending.as_str(), MessageState::Sending.as_str()]))
        .order((o::created_at.asc(), o::id.asc()))
        .select((o::created_at, o::next_attempt_at))
        .first(c)
        .optional())?;
    Ok(row.map(|(queued_at, next_attempt_at)| Waiting {
        queued_at,
        next_attempt_at,
    }))
}

/// The latest failures: dead messages and pending ones that failed before.
pub fn recent_errors(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<MessageSummary>> {
    use outbox::dsl as o;
    let rows: Vec<SummaryRow> = dispatch!(conn, c => o::outbox
        .filter(o::last_error.is_not_null())
        .filter(o::state.ne(MessageState::Sent.as_str()))
        .order(o::id.desc())
        .limit(limit)
        .select(SummaryRow::as_select())
        .load(c))?;
    summaries(rows)
}

/// Which of the messages with these idempotency keys are dead.
pub fn dead_among(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    use outbox::dsl as o;
    let mut dead = Vec::new();
    // Well below either backend's limit on bound parameters.
    for chunk in keys.chunks(500) {
        let found: Vec<String> = dispatch!(conn, c => o::outbox
            .filter(o::state.eq(MessageState::Dead.as_str()))
            .filter(o::idempotency_key.eq_any(chunk))
            .select(o::idempotency_key)
            .load(c))?;
        dead.extend(found);
    }
    Ok(dead)
}

/// Dead messages (all, or one) back to pending, due at `now`, with a fresh
/// count of attempts; returns how many. The last error stays for the record
/// until the next attempt.
pub fn requeue_dead(
    conn: &mut DbConn,
    only: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use outbox::dsl as o;
    dispatch!(conn, c => {
        let mut target = diesel::update(o::outbox)
            .filter(o::state.eq(MessageState::Dead.as_str()))
            .into_boxed();
        if let Some(id) = only {
            target = target.filter(o::id.eq(id));
        }
        target
            .set((
                o::state.eq(MessageState::Pending.as_str()),
                o::attempts.eq(0),
                o::next_attempt_at.eq(now),
                o::lease_until.eq(None::<NaiveDateTime>),
                o::given_up_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)
    })
}
