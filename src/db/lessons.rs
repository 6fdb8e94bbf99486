//! Lessons learned, one per side of a visit.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::lessons;
use super::{dispatch, DbConn};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lessons)]
pub struct NewLesson {
    pub visit_id: i64,
    pub side: &'static str,
    pub organisation_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub visit_date: NaiveDate,
    pub author_id: Option<i64>,
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: i32,
    pub rating: i16,
    pub recommend: Option<bool>,
    pub publish: &'static str,
    pub search_text: String,
    pub submitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = lessons, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LessonRow {
    pub id: i64,
    pub visit_id: i64,
    pub side: String,
    pub organisation_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub visit_date: NaiveDate,
    pub author_id: Option<i64>,
    pub situation: String,
    pub strengths: String,
    pub mistakes: String,
    pub recommendations: String,
    pub hours_saved: i32,
    pub rating: i16,
    pub recommend: Option<bool>,
    pub publish: String,
    pub submitted_at: NaiveDateTime,
}

/// Stores a side's lesson; `None` when that side has answered already
/// (the unique (visit, side) index decides, also under a race).
pub fn insert(conn: &mut DbConn, lesson: &NewLesson) -> QueryResult<Option<i64>> {
    dispatch!(conn, c => diesel::insert_into(lessons::table)
        .values(lesson)
        .on_conflict((lessons::visit_id, lessons::side))
        .do_nothing()
        .returning(lessons::id)
        .get_result(c)
        .optional())
}

/// The lessons of one visit (none, one or both sides).
pub fn for_visit(conn: &mut DbConn, visit: i64) -> QueryResult<Vec<LessonRow>> {
    dispatch!(conn, c => lessons::table
        .filter(lessons::visit_id.eq(visit))
        .order(lessons::id.asc())
        .select(LessonRow::as_select())
        .load(c))
}

/// (host, topic, side, rating, hours saved, visit day, publish) of every
/// lesson, for reputation and the published counts in matching.
pub type FactRow = (i64, i64, String, i16, i32, NaiveDate, String);

pub fn facts(conn: &mut DbConn) -> QueryResult<Vec<FactRow>> {
    dispatch!(conn, c => lessons::table
        .select((
            lessons::host_id,
            lessons::topic_id,
            lessons::side,
            lessons::rating,
            lessons::hours_saved,
            lessons::visit_date,
            lessons::publish,
        ))
        .load(c))
}
