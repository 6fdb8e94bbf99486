//! Webhook endpoints, the delivery queue and its log. The queue works as
//! the outbox does: deliveries are queued in the transaction of the change,
//! claimed by workers with a lease (PostgreSQL skips rows another worker is
//! claiming), and every report names its claim.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{partner_clients, webhook_attempts, webhook_deliveries, webhook_endpoints};
use super::{dispatch, DbConn};
use crate::domain::webhook::DeliveryState;

/// An endpoint as stored, secrets included (signing needs them).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EndpointRow {
    pub id: i64,
    pub partner_id: i64,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub paused: bool,
    pub held_by_admin: bool,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint<'a> {
    pub partner_id: i64,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: String,
    pub secret: String,
    pub paused: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_endpoint(conn: &mut DbConn, new: &NewEndpoint<'_>) -> QueryResult<EndpointRow> {
    dispatch!(conn, c => diesel::insert_into(webhook_endpoints::table)
        .values(new)
        .returning(EndpointRow::as_returning())
        .get_result(c))
}

pub fn count_for_partner(conn: &mut DbConn, partner_id: i64) -> QueryResult<i64> {
    dispatch!(conn, c => webhook_endpoints::table
        .filter(webhook_endpoints::partner_id.eq(partner_id))
        .count()
        .get_result(c))
}

/// One partner's endpoints, oldest first.
pub fn of_partner(conn: &mut DbConn, partner_id: i64) -> QueryResult<Vec<EndpointRow>> {
    dispatch!(conn, c => webhook_endpoints::table
        .filter(webhook_endpoints::partner_id.eq(partner_id))
        .order(webhook_endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load(c))
}

/// An endpoint, when it exists (and belongs to `partner_id`, when given).
pub fn find(
    conn: &mut DbConn,
    id: i64,
    partner_id: Option<i64>,
) -> QueryResult<Option<EndpointRow>> {
    dispatch!(conn, c => {
        let mut query = webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .select(EndpointRow::as_select())
            .into_boxed();
        if let Some(partner) = partner_id {
            query = query.filter(webhook_endpoints::partner_id.eq(partner));
        }
        query.first(c).optional()
    })
}

/// Every endpoint with its partner's client id and name, oldest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<(EndpointRow, String, String)>> {
    dispatch!(conn, c => webhook_endpoints::table
        .inner_join(partner_clients::table)
        .order(webhook_endpoints::id.asc())
        .select((EndpointRow::as_select(), partner_clients::client_id, partner_clients::name))
        .load(c))
}

/// The endpoints of active partners, with their partners' scopes: who may
/// hear of an event.
pub fn listeners(conn: &mut DbConn) -> QueryResult<Vec<(EndpointRow, String)>> {
    dispatch!(conn, c => webhook_endpoints::table
        .inner_join(partner_clients::table)
        .filter(partner_clients::active.eq(true))
        .order(webhook_endpoints::id.asc())
        .select((EndpointRow::as_select(), partner_clients::scopes))
        .load(c))
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<String>,
    pub secret: Option<String>,
    pub previous_secret: Option<Option<String>>,
    pub previous_until: Option<Option<NaiveDateTime>>,
    pub paused: Option<bool>,
    pub held_by_admin: Option<bool>,
    pub failing_since: Option<Option<NaiveDateTime>>,
    pub disabled_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update_endpoint(
    conn: &mut DbConn,
    id: i64,
    changes: &EndpointChanges,
) -> QueryResult<EndpointRow> {
    dispatch!(conn, c => diesel::update(webhook_endpoints::table.find(id))
        .set(changes)
        .returning(EndpointRow::as_returning())
        .get_result(c))
}

/// Deletes an endpoint with its deliveries and their log.
pub fn delete_endpoint(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let deleted =
        dispatch!(conn, c => diesel::delete(webhook_endpoints::table.find(id)).execute(c))?;
    Ok(deleted > 0)
}

/// Deletes the endpoints of a partner (when the partner goes).
pub fn delete_of_partner(conn: &mut DbConn, partner_id: i64) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(
        webhook_endpoints::table.filter(webhook_endpoints::partner_id.eq(partner_id)),
    )
    .execute(c))
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDelivery<'a> {
    pub endpoint_id: i64,
    pub webhook_id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
    pub state: &'a str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Queues a delivery, due at `now`. Call it inside the change's transaction.
pub fn enqueue(conn: &mut DbConn, new: &NewDelivery<'_>) -> QueryResult<i64> {
    dispatch!(conn, c => diesel::insert_into(webhook_deliveries::table)
        .values(new)
        .returning(webhook_deliveries::id)
        .get_result(c))
}

/// A delivery a worker has claimed and must now send.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Claimed {
    pub id: i64,
    pub endpoint_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i32,
    /// The claim: reports must name it.
    pub lease_until: Option<NaiveDateTime>,
}

/// Claims up to `limit` due deliveries of endpoints that take deliveries
/// (not paused, held or switched off; their partner active with
/// `webhooks:manage`) until `lease_until`: pending ones
/// whose time has come, and ones whose worker's lease ran out.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    use webhook_deliveries::dsl as d;
    use webhook_endpoints::dsl as e;
    conn.write(|conn| {
        let open = e::webhook_endpoints
            .filter(e::paused.eq(false))
            .filter(e::held_by_admin.eq(false))
            .filter(e::disabled_at.is_null())
            // A partner revoked, or without the scope any more, is sent nothing.
            .filter(
                e::partner_id.eq_any(
                    partner_clients::table
                        .filter(partner_clients::active.eq(true))
                        .filter(partner_clients::scopes.like("%webhooks:manage%"))
                        .select(partner_clients::id),
                ),
            )
            .select(e::id);
        let due = d::state
            .eq(DeliveryState::Pending.as_str())
            .and(d::next_attempt_at.le(now))
            .or(d::state
                .eq(DeliveryState::Sending.as_str())
                .and(d::lease_until.lt(now)));
        let ids: Vec<i64> = match conn {
            DbConn::Sqlite(c) => d::webhook_deliveries
                .filter(due)
                .filter(d::endpoint_id.eq_any(open))
                .order((d::next_attempt_at.asc(), d::id.asc()))
                .limit(limit)
                .select(d::id)
                .load(&mut **c)?,
            DbConn::Pg(c) => d::webhook_deliveries
                .filter(due)
                .filter(d::endpoint_id.eq_any(open))
                .order((d::next_attempt_at.asc(), d::id.asc()))
                .limit(limit)
                .select(d::id)
                .for_update()
                .skip_locked()
                .load(&mut **c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<Claimed> = dispatch!(conn, c => diesel::update(d::webhook_deliveries.filter(d::id.eq_any(&ids)))
            .set((
                d::state.eq(DeliveryState::Sending.as_str()),
                d::lease_until.eq(Some(lease_until)),
                d::attempts.eq(d::attempts + 1),
            ))
            .returning(Claimed::as_returning())
            .get_results(c))?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    })
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub response: String,
    pub error: Option<String>,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(NaiveDateTime),
    Dead,
}

/// Records an attempt in the log and moves the delivery on; `false` when
/// the claim is no longer this worker's (nothing is written then).
pub fn record(
    conn: &mut DbConn,
    claim: &Claimed,
    attempt: &Attempt,
    next: Next,
) -> QueryResult<bool> {
    use webhook_deliveries::dsl as d;
    let error: Option<String> = attempt
        .error
        .as_ref()
        .map(|e| e.chars().take(1000).collect());
    let changed = dispatch!(conn, c => {
        let target = d::webhook_deliveries
            .filter(d::id.eq(claim.id))
            .filter(d::state.eq(DeliveryState::Sending.as_str()))
            .filter(d::lease_until.eq(claim.lease_until));
        let common = (
            d::lease_until.eq(None::<NaiveDateTime>),
            d::last_status.eq(attempt.status),
            d::last_error.eq(&error),
        );
        match next {
            Next::Delivered => diesel::update(target)
                .set((d::state.eq(DeliveryState::Delivered.as_str()), d::delivered_at.eq(Some(attempt.at)), common))
                .execute(c),
            Next::RetryAt(at) => diesel::update(target)
                .set((d::state.eq(DeliveryState::Pending.as_str()), d::next_attempt_at.eq(at), common))
                .execute(c),
            Next::Dead => diesel::update(target)
                .set((d::state.eq(DeliveryState::Dead.as_str()), d::given_up_at.eq(Some(attempt.at)), common))
                .execute(c),
        }
    })?;
    if changed == 0 {
        return Ok(false);
    }
    dispatch!(conn, c => diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(claim.id),
            webhook_attempts::attempted_at.eq(attempt.at),
            webhook_attempts::status.eq(attempt.status),
            webhook_attempts::latency_ms.eq(attempt.latency_ms),
            webhook_attempts::response.eq(&attempt.response),
            webhook_attempts::error.eq(&error),
        ))
        .execute(c))?;
    Ok(true)
}

/// A delivery as its log shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub given_up_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: NaiveDateTime,
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub response: String,
    pub error: Option<String>,
}

/// Newest first: an endpoint's deliveries with an id below `before`,
/// optionally in one state.
pub fn deliveries(
    conn: &mut DbConn,
    endpoint_id: i64,
    state: Option<DeliveryState>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    use webhook_deliveries::dsl as d;
    dispatch!(conn, c => {
        let mut query = d::webhook_deliveries
            .filter(d::endpoint_id.eq(endpoint_id))
            .filter(d::id.lt(before.unwrap_or(i64::MAX)))
            .order(d::id.desc())
            .limit(limit)
            .select(DeliveryRow::as_select())
            .into_boxed();
        if let Some(state) = state {
            query = query.filter(d::state.eq(state.as_str()));
        }
        query.load(c)
    })
}

/// The attempts of these deliveries, newest first.
pub fn attempts_of(conn: &mut DbConn, delivery_ids: &[i64]) -> QueryResult<Vec<AttemptRow>> {
    dispatch!(conn, c => webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .order(webhook_attempts::id.desc())
        .select(AttemptRow::as_select())
        .load(c))
}

pub fn find_delivery(
    conn: &mut DbConn,
    endpoint_id: i64,
    id: i64,
) -> QueryResult<Option<DeliveryRow>> {
    dispatch!(conn, c => webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(DeliveryRow::as_select())
        .first(c)
        .optional())
}

/// A delivered or dead delivery back to pending, due at `now`, with a
/// fresh count of attempts and the same `webhook-id`; `false` when it is
/// still on its way (pending or sending).
pub fn redeliver(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    use webhook_deliveries::dsl as d;
    let changed = dispatch!(conn, c => diesel::update(
        d::webhook_deliveries
            .filter(d::id.eq(id))
            .filter(d::state.eq_any([DeliveryState::Delivered.as_str(), DeliveryState::Dead.as_str()])),
    )
    .set((
        d::state.eq(DeliveryState::Pending.as_str()),
        d::attempts.eq(0),
        d::next_attempt_at.eq(now),
        d::lease_until.eq(None::<NaiveDateTime>),
        d::given_up_at.eq(None::<NaiveDateTime>),
    ))
    .execute(c))?;
    Ok(changed > 0)
}

/// Notes a failed or successful attempt on its endpoint: the first failure
/// starts `failing_since`, a success clears it. Returns the endpoint after.
pub fn note_outcome(
    conn: &mut DbConn,
    endpoint_id: i64,
    succeeded: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<EndpointRow>> {
    use webhook_endpoints::dsl as e;
    dispatch!(conn, c => {
        if succeeded {
            diesel::update(e::webhook_endpoints.find(endpoint_id))
                .set(e::failing_since.eq(None::<NaiveDateTime>))
                .execute(c)?;
        } else {
            diesel::update(e::webhook_endpoints.find(endpoint_id).filter(e::failing_since.is_null()))
                .set(e::failing_since.eq(Some(now)))
                .execute(c)?;
        }
        e::webhook_endpoints
            .find(endpoint_id)
            .select(EndpointRow::as_select())
            .first(c)
            .optional()
    })
}

/// Switches an endpoint off, once: `true` when this call did.
pub fn disable(conn: &mut DbConn, endpoint_id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    use webhook_endpoints::dsl as e;
    let changed = dispatch!(conn, c => diesel::update(
        e::webhook_endpoints.find(endpoint_id).filter(e::disabled_at.is_null()),
    )
    .set((e::disabled_at.eq(Some(now)), e::updated_at.eq(now)))
    .execute(c))?;
    Ok(changed > 0)
}

/// Deliveries per state of one endpoint.
pub fn counts(conn: &mut DbConn, endpoint_id: i64) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    dispatch!(conn, c => webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .group_by(webhook_deliveries::state)
        .select((webhook_deliveries::state, count_star()))
        .order(webhook_deliveries::state.asc())
        .load(c))
}

/// Holds the partner's row until the transaction ends (PostgreSQL; SQLite
/// writes one at a time anyway), so two registrations at once cannot both
/// pass the limit on endpoints.
pub fn lock_partner(conn: &mut DbConn, partner_id: i64) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        partner_clients::table
            .find(partner_id)
            .select(partner_clients::id)
            .for_no_key_update()
            .first::<i64>(&mut **c)
            .optional()?;
    }
    Ok(())
}

/// The name and contact address of the partner an endpoint belongs to.
pub fn partner_of(conn: &mut DbConn, endpoint_id: i64) -> QueryResult<(String, Option<String>)> {
    dispatch!(conn, c => webhook_endpoints::table
        .inner_join(partner_clients::table)
        .filter(webhook_endpoints::id.eq(endpoint_id))
        .select((partner_clients::name, partner_clients::contact_email))
        .first(c))
}

/// The endpoints with these ids (the worker's claims name them).
pub fn endpoints(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<EndpointRow>> {
    dispatch!(conn, c => webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(ids))
        .select(EndpointRow::as_select())
        .load(c))
}

/// Up to `limit` deliveries delivered or given up before `cut`, oldest first.
pub fn finished_before(conn: &mut DbConn, cut: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    use webhook_deliveries::dsl as d;
    dispatch!(conn, c => d::webhook_deliveries
        .filter(
            d::state
                .eq(DeliveryState::Delivered.as_str())
                .and(d::delivered_at.lt(cut))
                .or(d::state.eq(DeliveryState::Dead.as_str()).and(d::given_up_at.lt(cut))),
        )
        .order(d::id)
        .limit(limit)
        .select(d::id)
        .load(c))
}

/// Deletes these deliveries with their attempts.
pub fn delete_deliveries(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    dispatch!(conn, c => {
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(ids)))
            .execute(c)?;
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
            .execute(c)
    })
}

/// Deliveries per state, over all endpoints.
pub fn state_counts(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    dispatch!(conn, c => webhook_deliveries::table
        .group_by(webhook_deliveries::state)
        .select((webhook_deliveries::state, count_star()))
        .order(webhook_deliveries::state.asc())
        .load(c))
}

/// When the oldest delivery still to go out to an endpoint that takes
/// deliveries was queued: messages held for a paused or switched-off
/// endpoint wait on purpose, and are no sign of trouble.
pub fn oldest_waiting(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    use diesel::dsl::min;
    use webhook_deliveries::dsl as d;
    use webhook_endpoints::dsl as e;
    dispatch!(conn, c => d::webhook_deliveries
        .inner_join(e::webhook_endpoints)
        .filter(d::state.eq_any([DeliveryState::Pending.as_str(), DeliveryState::Sending.as_str()]))
        .filter(e::paused.eq(false).and(e::held_by_admin.eq(false)).and(e::disabled_at.is_null()))
        .select(min(d::created_at))
        .first(c))
}

/// An endpoint's switches.
#[derive(Debug, Clone, Queryable)]
pub struct Switches {
    pub paused: bool,
    pub held: bool,
    pub disabled_at: Option<NaiveDateTime>,
    pub failing: bool,
}

/// Every endpoint's switches (a handful per partner).
pub fn endpoint_switches(conn: &mut DbConn) -> QueryResult<Vec<Switches>> {
    use webhook_endpoints::dsl as e;
    dispatch!(conn, c => e::webhook_endpoints
        .select((e::paused, e::held_by_admin, e::disabled_at, e::failing_since.is_not_null()))
        .load(c))
}
