//! Visits and the single-use links emailed about them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{link_tokens, organisations, topics, visits};
use super::{dispatch, DbConn};
use crate::domain::visit::{Booked, LinkPurpose, VisitId, VisitState};

// The states as the `state` column holds them, for queries.
const REQUESTED: &str = VisitState::Requested.as_str();
const ACCEPTED: &str = VisitState::Accepted.as_str();
const DECLINED: &str = VisitState::Declined.as_str();
const EXPIRED: &str = VisitState::Expired.as_str();
const CANCELLED: &str = VisitState::Cancelled.as_str();
const COMPLETED: &str = VisitState::Completed.as_str();

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = visits, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct VisitRow {
    #[diesel(deserialize_as = i64)]
    pub id: VisitId,
    pub requester_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub requested_by: i64,
    #[diesel(deserialize_as = String)]
    pub state: VisitState,
    pub goal: String,
    pub participants: i32,
    /// JSON list of ISO dates.
    pub proposed_dates: String,
    pub visit_date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub sequence: i32,
    pub expires_at: NaiveDateTime,
    pub nudged_at: Option<NaiveDateTime>,
    pub reminded_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub lessons_reminded_at: Option<NaiveDateTime>,
    pub followed_up_at: Option<NaiveDateTime>,
    /// Why Meeloop closed it (cancelled_by 'meeloop').
    pub closed_because: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = visits)]
pub struct NewVisit {
    pub requester_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub requested_by: i64,
    #[diesel(serialize_as = String)]
    pub state: VisitState,
    pub goal: String,
    pub participants: i32,
    pub proposed_dates: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, visit: NewVisit) -> QueryResult<VisitId> {
    dispatch!(conn, c => diesel::insert_into(visits::table)
        .values(visit)
        .returning(visits::id)
        .get_result(c))
    .map(VisitId)
}

pub fn find(conn: &mut DbConn, id: VisitId) -> QueryResult<Option<VisitRow>> {
    dispatch!(conn, c => visits::table
        .find(id.0)
        .select(VisitRow::as_select())
        .first(c)
        .optional())
}

/// Serialises bookings for one organisation: see
/// [`super::organisations::lock`]. Lock hosts before anything else, always
/// in the same order, to avoid deadlocks.
pub fn lock_organisation(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    super::organisations::lock(conn, crate::domain::organisation::OrganisationId(id)).map(|_| ())
}

/// Whether `organisation` already has a visit (as host or as requester) on `date`.
pub fn booked_on(conn: &mut DbConn, organisation: i64, date: NaiveDate) -> QueryResult<bool> {
    use diesel::dsl::{exists, select};
    dispatch!(conn, c => select(exists(
        visits::table
            .filter(visits::state.eq_any([ACCEPTED, COMPLETED]))
            .filter(visits::visit_date.eq(date))
            .filter(visits::host_id.eq(organisation).or(visits::requester_id.eq(organisation))),
    ))
    .get_result(c))
}

/// Visits the host has accepted (or held) between `from` and `to`, inclusive.
pub fn hosted_between(
    conn: &mut DbConn,
    host: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<i64> {
    dispatch!(conn, c => visits::table
        .filter(visits::host_id.eq(host))
        .filter(visits::state.eq_any([ACCEPTED, COMPLETED]))
        .filter(visits::visit_date.between(from, to))
        .count()
        .get_result(c))
}

/// An unanswered request from `requester` to `host` on `topic`, if any.
pub fn open_request(
    conn: &mut DbConn,
    requester: i64,
    host: i64,
    topic: i64,
) -> QueryResult<Option<VisitId>> {
    let id: Option<i64> = dispatch!(conn, c => visits::table
        .filter(visits::requester_id.eq(requester))
        .filter(visits::host_id.eq(host))
        .filter(visits::topic_id.eq(topic))
        .filter(visits::state.eq(REQUESTED))
        .select(visits::id)
        .first(c)
        .optional())?;
    Ok(id.map(VisitId))
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = link_tokens)]
pub struct NewLinkToken {
    pub token_hash: String,
    #[diesel(serialize_as = String)]
    pub purpose: LinkPurpose,
    pub visit_id: i64,
    pub organisation_id: i64,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = link_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LinkTokenRow {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub purpose: LinkPurpose,
    #[diesel(deserialize_as = i64)]
    pub visit_id: VisitId,
    pub organisation_id: i64,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl LinkTokenRow {
    /// Not used yet and not expired at `now`.
    pub fn usable(&self, now: NaiveDateTime) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

pub fn insert_token(conn: &mut DbConn, token: NewLinkToken) -> QueryResult<()> {
    dispatch!(conn, c => diesel::insert_into(link_tokens::table)
        .values(token)
        .execute(c))?;
    Ok(())
}

/// The token with this hash, used or not (a used link still explains itself).
pub fn find_token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<LinkTokenRow>> {
    dispatch!(conn, c => link_tokens::table
        .filter(link_tokens::token_hash.eq(hash))
        .select(LinkTokenRow::as_select())
        .first(c)
        .optional())
}

/// Uses a token once; `false` when it was used already.
pub fn use_token(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        link_tokens::table
            .filter(link_tokens::id.eq(id))
            .filter(link_tokens::used_at.is_null()),
    )
    .set(link_tokens::used_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// Organisation names by id, for showing visits.
pub fn organisation_names(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = dispatch!(conn, c => organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// Topics by id: slug, Dutch and English name.
pub fn topic_names(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, TopicNames>> {
    let rows: Vec<(i64, TopicNames)> = dispatch!(conn, c => topics::table
        .filter(topics::id.eq_any(ids))
        .select((topics::id, (topics::slug, topics::name_nl, topics::name_en)))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// A topic's slug and names, for showing what refers to it.
#[derive(Debug, Clone, Queryable)]
pub struct TopicNames {
    pub slug: String,
    pub nl: String,
    pub en: String,
}

/// Records the host's acceptance, if the visit is still requested; `false`
/// otherwise. A second visit that day is refused by the unique indexes.
pub fn set_accepted(
    conn: &mut DbConn,
    id: VisitId,
    date: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table.filter(visits::id.eq(id.0)).filter(visits::state.eq(REQUESTED)),
    )
    .set((
        visits::state.eq(ACCEPTED),
        visits::visit_date.eq(Some(date)),
        visits::answered_at.eq(Some(now)),
        visits::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

pub fn set_declined(
    conn: &mut DbConn,
    id: VisitId,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table.filter(visits::id.eq(id.0)).filter(visits::state.eq(REQUESTED)),
    )
    .set((
        visits::state.eq(DECLINED),
        visits::reason.eq(reason),
        visits::answered_at.eq(Some(now)),
        visits::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Uses up every unused link of `purpose` for a visit (answered another way).
pub fn use_tokens_of(
    conn: &mut DbConn,
    visit: VisitId,
    purpose: LinkPurpose,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(
        link_tokens::table
            .filter(link_tokens::visit_id.eq(visit.0))
            .filter(link_tokens::purpose.eq(purpose.as_str()))
            .filter(link_tokens::used_at.is_null()),
    )
    .set(link_tokens::used_at.eq(Some(now)))
    .execute(c))?;
    Ok(())
}

/// Which visits to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitFilter<'a> {
    /// Visits of this organisation (as requester or host, or as `role` says).
    pub organisation: Option<i64>,
    /// `Some(true)`: as host; `Some(false)`: as requester.
    pub as_host: Option<bool>,
    pub state: Option<&'a str>,
}

/// Newest first: visits with an id below `before`.
pub fn page(
    conn: &mut DbConn,
    filter: VisitFilter<'_>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<VisitRow>> {
    dispatch!(conn, c => {
        let mut query = visits::table
            .filter(visits::id.lt(before.unwrap_or(i64::MAX)))
            .order(visits::id.desc())
            .limit(limit)
            .select(VisitRow::as_select())
            .into_boxed();
        if let Some(org) = filter.organisation {
            query = match filter.as_host {
                Some(true) => query.filter(visits::host_id.eq(org)),
                Some(false) => query.filter(visits::requester_id.eq(org)),
                None => query.filter(visits::host_id.eq(org).or(visits::requester_id.eq(org))),
            };
        }
        if let Some(state) = filter.state {
            query = query.filter(visits::state.eq(state));
        }
        query.load(c)
    })
}

/// Calls a visit off (requested or accepted); its calendar entry's
/// SEQUENCE grows so calendars replace it. `false` if it was not open.
pub fn set_cancelled(
    conn: &mut DbConn,
    id: VisitId,
    by: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq_any([REQUESTED, ACCEPTED])),
    )
    .set((
        visits::state.eq(CANCELLED),
        visits::cancelled_by.eq(Some(by)),
        visits::reason.eq(reason),
        visits::sequence.eq(visits::sequence + 1),
        visits::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Meeloop closes a request nobody can answer any more. `false` if it was
/// answered or withdrawn meanwhile.
pub fn set_closed(
    conn: &mut DbConn,
    id: VisitId,
    because: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(REQUESTED)),
    )
    .set((
        visits::state.eq(CANCELLED),
        visits::cancelled_by.eq(Some("meeloop")),
        visits::closed_because.eq(Some(because)),
        visits::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// (host, requester, day) of every visit booked on or after `from`.
pub fn booked_from(conn: &mut DbConn, from: NaiveDate) -> QueryResult<Vec<Booked>> {
    let rows: Vec<(i64, i64, Option<NaiveDate>)> = dispatch!(conn, c => visits::table
        .filter(visits::state.eq_any([ACCEPTED, COMPLETED]))
        .filter(visits::visit_date.ge(from))
        .select((visits::host_id, visits::requester_id, visits::visit_date))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(host, requester, day)| {
            Some(Booked {
                host,
                requester,
                date: day?,
            })
        })
        .collect())
}

/// (organisation, monthly capacity) of `ids`.
pub fn capacities(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, i32>> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, i32)> = dispatch!(conn, c => organisations::table
            .filter(organisations::id.eq_any(chunk))
            .select((organisations::id, organisations::monthly_capacity))
            .load(c))?;
        found.extend(rows);
    }
    Ok(found)
}

/// Unanswered requests with any of `organisations` on either side, oldest first.
pub fn requested_involving(conn: &mut DbConn, organisations: &[i64]) -> QueryResult<Vec<VisitId>> {
    let ids: Vec<i64> = dispatch!(conn, c => visits::table
        .filter(visits::state.eq(REQUESTED))
        .filter(
            visits::host_id
                .eq_any(organisations)
                .or(visits::requester_id.eq_any(organisations)),
        )
        .order(visits::id.asc())
        .select(visits::id)
        .load(c))?;
    Ok(ids.into_iter().map(VisitId).collect())
}

/// The unanswered request ran out. `false` if it was answered meanwhile
/// (or another instance expired it first).
pub fn set_expired(conn: &mut DbConn, id: VisitId, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(REQUESTED))
            .filter(visits::expires_at.le(now)),
    )
    .set((visits::state.eq(EXPIRED), visits::updated_at.eq(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// The day has passed. `false` if it was not an accepted visit before `today`.
pub fn set_completed(
    conn: &mut DbConn,
    id: VisitId,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(ACCEPTED))
            .filter(visits::visit_date.lt(today)),
    )
    .set((
        visits::state.eq(COMPLETED),
        visits::completed_at.eq(Some(now)),
        visits::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Records the one nudge; `false` if it was sent already or the request
/// is no longer open.
pub fn set_nudged(conn: &mut DbConn, id: VisitId, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(REQUESTED))
            .filter(visits::nudged_at.is_null()),
    )
    .set(visits::nudged_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// Records the one reminder before the day; `false` if it was sent already.
pub fn set_reminded(conn: &mut DbConn, id: VisitId, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(ACCEPTED))
            .filter(visits::reminded_at.is_null()),
    )
    .set(visits::reminded_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// Visits the scheduler may have to act on, oldest first: requested ones
/// (nudge, expiry), accepted ones (reminder, completion) and completed ones
/// whose lessons reminder or follow-up has not been dealt with.
pub fn open(conn: &mut DbConn) -> QueryResult<Vec<VisitRow>> {
    dispatch!(conn, c => visits::table
        .filter(
            visits::state
                .eq_any([REQUESTED, ACCEPTED])
                .or(visits::state.eq(COMPLETED).and(
                    visits::lessons_reminded_at
                        .is_null()
                        .or(visits::followed_up_at.is_null()),
                )),
        )
        .order(visits::id.asc())
        .select(VisitRow::as_select())
        .load(c))
}

/// A visit as matching (and the digest) remembers it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visits, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FactRow {
    pub host_id: i64,
    pub requester_id: i64,
    pub topic_id: i64,
    #[diesel(deserialize_as = String)]
    pub state: VisitState,
    pub visit_date: Option<NaiveDate>,
    pub answered_at: Option<NaiveDateTime>,
}

/// The visits that can still matter to matching: accepted, held or
/// declined since `since`.
pub fn facts_since(conn: &mut DbConn, since: NaiveDate) -> QueryResult<Vec<FactRow>> {
    let since_at = since.and_hms_opt(0, 0, 0).unwrap_or_default();
    dispatch!(conn, c => visits::table
        .filter(visits::state.eq_any([ACCEPTED, COMPLETED, DECLINED]))
        .filter(visits::visit_date.ge(since).or(visits::answered_at.ge(since_at)))
        .select(FactRow::as_select())
        .load(c))
}

/// Visits accepted between `from` (inclusive) and `to` (UTC) that are still
/// to come on `today` or later: what a month's digests call planned.
pub fn planned_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    today: NaiveDate,
) -> QueryResult<Vec<FactRow>> {
    dispatch!(conn, c => visits::table
        .filter(visits::state.eq(ACCEPTED))
        .filter(visits::answered_at.ge(from))
        .filter(visits::answered_at.lt(to))
        .filter(visits::visit_date.ge(today))
        .order((visits::visit_date.asc(), visits::id.asc()))
        .select(FactRow::as_select())
        .load(c))
}

/// Records that the lessons reminder was dealt with; `false` if another
/// instance did it first.
pub fn set_lessons_reminded(
    conn: &mut DbConn,
    id: VisitId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(COMPLETED))
            .filter(visits::lessons_reminded_at.is_null()),
    )
    .set(visits::lessons_reminded_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// Uses up one organisation's unused links of `purpose` for a visit (its
/// side answered).
pub fn use_tokens_for(
    conn: &mut DbConn,
    visit: VisitId,
    purpose: LinkPurpose,
    organisation: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(
        link_tokens::table
            .filter(link_tokens::visit_id.eq(visit.0))
            .filter(link_tokens::purpose.eq(purpose.as_str()))
            .filter(link_tokens::organisation_id.eq(organisation))
            .filter(link_tokens::used_at.is_null()),
    )
    .set(link_tokens::used_at.eq(Some(now)))
    .execute(c))?;
    Ok(())
}

/// Records the three-month follow-up; `false` if another instance sent it.
pub fn set_followed_up(conn: &mut DbConn, id: VisitId, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        visits::table
            .filter(visits::id.eq(id.0))
            .filter(visits::state.eq(COMPLETED))
            .filter(visits::followed_up_at.is_null()),
    )
    .set(visits::followed_up_at.eq(Some(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// What a coordinator's dashboard shows of one organisation: open requests
/// and bookings on either side, and visits held or closed since `since`.
/// Newest first, at most `limit`.
pub fn current_for(
    conn: &mut DbConn,
    organisation: i64,
    since: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<VisitRow>> {
    dispatch!(conn, c => visits::table
        .filter(visits::host_id.eq(organisation).or(visits::requester_id.eq(organisation)))
        .filter(
            visits::state
                .eq_any([REQUESTED, ACCEPTED])
                .or(visits::visit_date.ge(since))
                .or(visits::updated_at.ge(since.and_time(chrono::NaiveTime::MIN))),
        )
        .order(visits::id.desc())
        .limit(limit)
        .select(VisitRow::as_select())
        .load(c))
}
