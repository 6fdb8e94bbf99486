//! Lessons learned, one per side of a visit.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::lessons;
use super::{dispatch, DbConn};
use crate::domain::lesson::{Lesson, LessonId, Publish};
use crate::domain::visit::{VisitId, VisitRole, VisitState};

/// Which visit and side a lesson is about, and who wrote it when.
#[derive(Debug, Clone)]
pub struct LessonPlace {
    pub visit_id: VisitId,
    pub side: VisitRole,
    /// The organisation of `side`.
    pub organisation_id: i64,
    pub host_id: i64,
    pub topic_id: i64,
    pub visit_date: NaiveDate,
    pub author_id: Option<i64>,
    pub submitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lessons)]
struct NewLesson {
    visit_id: i64,
    #[diesel(serialize_as = String)]
    side: VisitRole,
    organisation_id: i64,
    host_id: i64,
    topic_id: i64,
    visit_date: NaiveDate,
    author_id: Option<i64>,
    situation: String,
    strengths: String,
    mistakes: String,
    recommendations: String,
    hours_saved: i32,
    rating: i16,
    recommend: Option<bool>,
    #[diesel(serialize_as = String)]
    publish: Publish,
    search_text: String,
    submitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = lessons, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LessonRow {
    #[diesel(deserialize_as = i64)]
    pub id: LessonId,
    #[diesel(deserialize_as = i64)]
    pub visit_id: VisitId,
    #[diesel(deserialize_as = String)]
    pub side: VisitRole,
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
    #[diesel(deserialize_as = String)]
    pub publish: Publish,
    pub submitted_at: NaiveDateTime,
}

impl LessonRow {
    /// The lesson as written, without where it belongs.
    pub fn lesson(&self) -> Lesson {
        Lesson {
            situation: self.situation.clone(),
            strengths: self.strengths.clone(),
            mistakes: self.mistakes.clone(),
            recommendations: self.recommendations.clone(),
            hours_saved: self.hours_saved,
            rating: self.rating,
            recommend: self.recommend,
            publish: self.publish,
        }
    }
}

/// Stores a side's lesson; `None` when that side has answered already
/// (the unique (visit, side) index decides, also under a race).
pub fn insert(conn: &mut DbConn, at: LessonPlace, lesson: Lesson) -> QueryResult<Option<i64>> {
    let row = NewLesson {
        visit_id: at.visit_id.0,
        side: at.side,
        organisation_id: at.organisation_id,
        host_id: at.host_id,
        topic_id: at.topic_id,
        visit_date: at.visit_date,
        author_id: at.author_id,
        search_text: lesson.search_text(),
        situation: lesson.situation,
        strengths: lesson.strengths,
        mistakes: lesson.mistakes,
        recommendations: lesson.recommendations,
        hours_saved: lesson.hours_saved,
        rating: lesson.rating,
        recommend: lesson.recommend,
        publish: lesson.publish,
        submitted_at: at.submitted_at,
    };
    dispatch!(conn, c => diesel::insert_into(lessons::table)
        .values(row)
        .on_conflict((lessons::visit_id, lessons::side))
        .do_nothing()
        .returning(lessons::id)
        .get_result(c)
        .optional())
}

/// The lessons published between `from` (inclusive) and `to` (UTC), newest
/// first: what a month's digests tell about.
pub fn published_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<LessonRow>> {
    dispatch!(conn, c => lessons::table
        .filter(lessons::submitted_at.ge(from))
        .filter(lessons::submitted_at.lt(to))
        .filter(lessons::publish.ne(Publish::No.as_str()))
        .order(lessons::id.desc())
        .select(LessonRow::as_select())
        .load(c))
}

/// The lessons of one visit (none, one or both sides).
pub fn for_visit(conn: &mut DbConn, visit: VisitId) -> QueryResult<Vec<LessonRow>> {
    dispatch!(conn, c => lessons::table
        .filter(lessons::visit_id.eq(visit.0))
        .order(lessons::id.asc())
        .select(LessonRow::as_select())
        .load(c))
}

/// (host, topic, side, rating, hours saved, visit day, publish) of every
/// lesson, for reputation and the published counts in matching.
/// A lesson as reputation counts it.
#[derive(Debug, Clone, Queryable)]
pub struct FactRow {
    pub host_id: i64,
    pub topic_id: i64,
    #[diesel(deserialize_as = String)]
    pub side: VisitRole,
    pub rating: i16,
    pub hours_saved: i32,
    pub visit_date: NaiveDate,
    #[diesel(deserialize_as = String)]
    pub publish: Publish,
}

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

/// Which published lessons to list.
#[derive(Debug, Clone, Default)]
pub struct Published<'a> {
    pub topic: Option<i64>,
    /// The kind of the organisation that wrote it.
    pub kind: Option<&'a str>,
    /// Folded words that must each start a word of the lesson.
    pub words: Vec<String>,
    /// Only lessons with an id below this (newest first).
    pub before: Option<i64>,
}

/// On PostgreSQL, how many matches a search collects before it stops
/// sorting the whole match set and walks lessons newest first instead.
/// Fewer than this: they are found through the index and sorted (a rare
/// word). More: a page of 20 lies within the newest 20 × N / 1,000 lessons,
/// tested at about 5 µs each (docs/performance.md).
const PG_MATCH_SET_MAX: usize = 1000;

/// Published lessons, newest first.
pub fn published(
    conn: &mut DbConn,
    filter: &Published<'_>,
    limit: i64,
) -> QueryResult<Vec<LessonRow>> {
    use super::schema::organisations;
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    // Every word must begin a word of the lesson: through the full-text
    // index of each backend (migrations 000018 and 000019), never a scan.
    let search = crate::domain::search::prefix_queries(&filter.words);
    // The lessons the filter lets through, with their authors.
    macro_rules! filtered {
        ($selection:expr) => {{
            let mut query = lessons::table
                .inner_join(organisations::table.on(organisations::id.eq(lessons::organisation_id)))
                .filter(lessons::publish.ne(Publish::No.as_str()))
                .filter(lessons::id.lt(filter.before.unwrap_or(i64::MAX)))
                .select($selection)
                .into_boxed();
            if let Some(topic) = filter.topic {
                query = query.filter(lessons::topic_id.eq(topic));
            }
            if let Some(kind) = filter.kind {
                query = query.filter(organisations::kind.eq(kind));
            }
            query
        }};
    }
    match (conn, search) {
        (DbConn::Sqlite(c), search) => {
            let mut query = filtered!(LessonRow::as_select())
                .order(lessons::id.desc())
                .limit(limit);
            if let Some((fts5, _)) = search {
                query = query.filter(
                    sql::<Bool>(
                        "lessons.id IN (SELECT rowid FROM lessons_fts WHERE lessons_fts MATCH ",
                    )
                    .bind::<Text, _>(fts5)
                    .sql(")"),
                );
            }
            query.load(&mut **c)
        }
        (DbConn::Pg(c), None) => filtered!(LessonRow::as_select())
            .order(lessons::id.desc())
            .limit(limit)
            .load(&mut **c),
        // The planner cannot tell a rare word from a common one well enough
        // (every prefix search is guessed at 0.5 % of lessons): left to
        // itself it walked all 100,000 lessons for a word in 19 of them.
        // So first collect the matches through the index, in no order, up
        // to a bound; only when there are more than that is a walk newest
        // first sure to end soon.
        (DbConn::Pg(c), Some((_, tsquery))) => {
            let c: &mut diesel::PgConnection = c;
            let matches = || {
                sql::<Bool>("lessons.search_doc @@ to_tsquery('simple', ")
                    .bind::<Text, _>(tsquery.clone())
                    .sql(")")
            };
            let mut ids: Vec<i64> = filtered!(lessons::id)
                .filter(matches())
                .limit(PG_MATCH_SET_MAX as i64 + 1)
                .load(c)?;
            if ids.len() <= PG_MATCH_SET_MAX {
                ids.sort_unstable_by(|a, b| b.cmp(a));
                ids.truncate(usize::try_from(limit).unwrap_or(0));
                filtered!(LessonRow::as_select())
                    .filter(lessons::id.eq_any(ids))
                    .order(lessons::id.desc())
                    .load(c)
            } else {
                filtered!(LessonRow::as_select())
                    .filter(matches())
                    .order(lessons::id.desc())
                    .limit(limit)
                    .load(c)
            }
        }
    }
}

/// The organisations that wrote lessons, as the knowledge base shows them.
pub fn organisations(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Author>> {
    use super::schema::organisations;
    let rows: Vec<(i64, Author)> = dispatch!(conn, c => organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, (organisations::name, organisations::kind, organisations::size)))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// An organisation that wrote a lesson.
#[derive(Debug, Clone, Queryable)]
pub struct Author {
    pub name: String,
    pub kind: String,
    pub size: i64,
}

/// A side of a visit that sent its lesson.
#[derive(Debug, Clone, Queryable)]
pub struct SideAnswered {
    #[diesel(deserialize_as = i64)]
    pub visit_id: VisitId,
    #[diesel(deserialize_as = String)]
    pub side: VisitRole,
}

/// A request as the acceptance figures count it.
#[derive(Debug, Clone, Queryable)]
pub struct RequestStat {
    pub topic_id: i64,
    #[diesel(deserialize_as = String)]
    pub state: VisitState,
    pub created_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
}

/// Requests made between `from` (inclusive) and `to` (UTC).
pub fn requests_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<RequestStat>> {
    use super::schema::visits;
    dispatch!(conn, c => visits::table
        .filter(visits::created_at.ge(from))
        .filter(visits::created_at.lt(to))
        .select((visits::topic_id, visits::state, visits::created_at, visits::answered_at))
        .load(c))
}

/// (topic id, day, visit state, how many visits).
pub type VisitCountRow = (i64, Option<NaiveDate>, String, i64);

/// The visits accepted or held between two days, counted by the database:
/// one row per topic, day and state.
pub fn visit_counts(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<VisitCountRow>> {
    use super::schema::visits;
    use diesel::dsl::count_star;
    dispatch!(conn, c => visits::table
        .filter(visits::state.eq_any([VisitState::Accepted.as_str(), VisitState::Completed.as_str()]))
        .filter(visits::visit_date.between(from, to))
        .group_by((visits::topic_id, visits::visit_date, visits::state))
        .select((visits::topic_id, visits::visit_date, visits::state, count_star()))
        .load(c))
}

/// (topic id, lessons, hours saved).
pub type LessonSumRow = (i64, i64, Option<i64>);

/// The lessons on the visits held between two days, summed by the
/// database: one row per topic. Only a held visit has lessons, and a lesson
/// keeps its visit's day, so no join is needed (it cost 70 ms a year at
/// 50,000 visits).
pub fn lesson_sums(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<LessonSumRow>> {
    use diesel::dsl::{count_star, sum};
    dispatch!(conn, c => lessons::table
        .filter(lessons::visit_date.between(from, to))
        .group_by(lessons::topic_id)
        .select((lessons::topic_id, count_star(), sum(lessons::hours_saved)))
        .load(c))
}

/// The requester's answer to the three-month follow-up.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::followups, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FollowUpRow {
    pub visit_id: i64,
    pub applied: String,
    pub changes: String,
    pub answered_at: NaiveDateTime,
}

/// Stores the follow-up once; `false` when it was answered already.
pub fn insert_followup(conn: &mut DbConn, row: &FollowUpRow) -> QueryResult<bool> {
    use super::schema::followups;
    let n = dispatch!(conn, c => diesel::insert_into(followups::table)
        .values(row)
        .on_conflict(followups::visit_id)
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

pub fn find_followup(conn: &mut DbConn, visit: VisitId) -> QueryResult<Option<FollowUpRow>> {
    use super::schema::followups;
    dispatch!(conn, c => followups::table
        .find(visit.0)
        .select(FollowUpRow::as_select())
        .first(c)
        .optional())
}

/// Which sides have answered, for these visits: (visit, side).
pub fn sides_answered(conn: &mut DbConn, visits: &[i64]) -> QueryResult<Vec<SideAnswered>> {
    dispatch!(conn, c => lessons::table
        .filter(lessons::visit_id.eq_any(visits))
        .select((lessons::visit_id, lessons::side))
        .load(c))
}

/// Rewrites SQLite's full-text index without the entries of changed or
/// removed text: a change leaves the old words in the index's segments
/// until they are merged, and erased or purged words must not stay there.
/// PostgreSQL's index drops them with its rows at VACUUM, as its tables do.
pub fn compact_search_index(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Sqlite(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("INSERT INTO lessons_fts (lessons_fts) VALUES ('optimize')")?;
    }
    Ok(())
}
