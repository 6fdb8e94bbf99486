//! What the pictures of who learns from whom read: held visits on a topic,
//! which sides published their lesson without a name, the follow-up
//! answers per host, and one organisation's history.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{followups, lessons, visits};
use super::{dispatch, DbConn};
use crate::domain::lesson::Publish;
use crate::domain::visit::VisitState;

const COMPLETED: &str = VisitState::Completed.as_str();

/// A held visit: (id, requester, host, day).
pub type Held = (i64, i64, i64, NaiveDate);

/// The visits held on `topic` from `since` on, oldest first.
pub fn held_on_topic(conn: &mut DbConn, topic: i64, since: NaiveDate) -> QueryResult<Vec<Held>> {
    let rows: Vec<(i64, i64, i64, Option<NaiveDate>)> = dispatch!(conn, c => visits::table
        .filter(visits::topic_id.eq(topic))
        .filter(visits::state.eq(COMPLETED))
        .filter(visits::visit_date.ge(since))
        .order((visits::visit_date.asc(), visits::id.asc()))
        .select((visits::id, visits::requester_id, visits::host_id, visits::visit_date))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, r, h, d)| Some((id, r, h, d?)))
        .collect())
}

/// (visit, side) of the lessons on `visits` published without a name.
pub fn unnamed_sides(conn: &mut DbConn, visits: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    // Bounded lists keep the statement within every backend's limits.
    for chunk in visits.chunks(500) {
        let rows: Vec<(i64, String)> = dispatch!(conn, c => lessons::table
            .filter(lessons::visit_id.eq_any(chunk))
            .filter(lessons::publish.eq(Publish::Pseudonymous.as_str()))
            .select((lessons::visit_id, lessons::side))
            .load(c))?;
        out.extend(rows);
    }
    Ok(out)
}

/// (host, follow-up answer) of every answered follow-up on `topic`.
pub fn applied_on_topic(conn: &mut DbConn, topic: i64) -> QueryResult<Vec<(i64, String)>> {
    dispatch!(conn, c => followups::table
        .inner_join(visits::table.on(visits::id.eq(followups::visit_id)))
        .filter(visits::topic_id.eq(topic))
        .select((visits::host_id, followups::applied))
        .load(c))
}

/// The days of an organisation's held visits: (made, hosted). Two reads,
/// each through its own index (an `OR` of the two would scan).
pub fn held_by(
    conn: &mut DbConn,
    organisation: i64,
) -> QueryResult<(Vec<NaiveDate>, Vec<NaiveDate>)> {
    let made: Vec<Option<NaiveDate>> = dispatch!(conn, c => visits::table
        .filter(visits::requester_id.eq(organisation))
        .filter(visits::state.eq(COMPLETED))
        .select(visits::visit_date)
        .load(c))?;
    let hosted: Vec<Option<NaiveDate>> = dispatch!(conn, c => visits::table
        .filter(visits::host_id.eq(organisation))
        .filter(visits::state.eq(COMPLETED))
        .select(visits::visit_date)
        .load(c))?;
    Ok((
        made.into_iter().flatten().collect(),
        hosted.into_iter().flatten().collect(),
    ))
}

/// How many of its lessons `organisation` published (either side).
pub fn published_by(conn: &mut DbConn, organisation: i64) -> QueryResult<i64> {
    dispatch!(conn, c => lessons::table
        .filter(lessons::organisation_id.eq(organisation))
        .filter(lessons::publish.ne(Publish::No.as_str()))
        .count()
        .get_result(c))
}

/// The hours visitors say their visits to `host` saved them.
pub fn hours_saved_at(conn: &mut DbConn, host: i64) -> QueryResult<i64> {
    let hours: Vec<i32> = dispatch!(conn, c => lessons::table
        .filter(lessons::host_id.eq(host))
        .filter(lessons::side.eq(crate::domain::visit::VisitRole::Requester.as_str()))
        .select(lessons::hours_saved)
        .load(c))?;
    Ok(hours.into_iter().map(i64::from).sum())
}

/// The follow-up answers about visits to `host`.
pub fn applied_at(conn: &mut DbConn, host: i64) -> QueryResult<Vec<String>> {
    dispatch!(conn, c => followups::table
        .inner_join(visits::table.on(visits::id.eq(followups::visit_id)))
        .filter(visits::host_id.eq(host))
        .select(followups::applied)
        .load(c))
}
