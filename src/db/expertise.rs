//! Expertise repository: organisation × topic.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{expertise, topics};
use super::topics::TopicRow;
use super::{dispatch, upsert_rows, DbConn};
use crate::domain::organisation::OrganisationId;
use crate::domain::topic::{Expertise, MaturityLevel, Topic};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = expertise, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ExpertiseRow {
    organisation_id: i64,
    level: i32,
    summary: String,
    since_year: Option<i32>,
    willing_to_host: bool,
    updated_at: NaiveDateTime,
}

/// Everything one organisation knows, by topic slug.
pub fn for_organisation(conn: &mut DbConn, id: OrganisationId) -> QueryResult<Vec<Expertise>> {
    let rows: Vec<(ExpertiseRow, TopicRow)> = dispatch!(conn, c => expertise::table
        .inner_join(topics::table)
        .filter(expertise::organisation_id.eq(id.0))
        .filter(topics::active.eq(true))
        .order(topics::slug.asc())
        .select((ExpertiseRow::as_select(), TopicRow::as_select()))
        .load(c))?;
    rows.into_iter()
        .map(|(e, t)| {
            Ok(Expertise {
                organisation_id: OrganisationId(e.organisation_id),
                topic: Topic::from(t),
                level: MaturityLevel::new(i64::from(e.level)).map_err(|err| {
                    diesel::result::Error::DeserializationError(err.message.into())
                })?,
                summary: e.summary,
                since_year: e.since_year,
                willing_to_host: e.willing_to_host,
                updated_at: e.updated_at.and_utc(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = expertise, treat_none_as_default_value = false)]
pub struct NewExpertise {
    pub organisation_id: i64,
    pub topic_id: i64,
    pub level: i32,
    pub summary: String,
    pub since_year: Option<i32>,
    pub willing_to_host: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewExpertise {
    pub fn new(
        organisation: OrganisationId,
        topic: &Topic,
        level: MaturityLevel,
        summary: &str,
        since_year: Option<i32>,
        willing_to_host: bool,
    ) -> Self {
        let now = super::now();
        NewExpertise {
            organisation_id: organisation.0,
            topic_id: topic.id.0,
            level: i32::from(level.get()),
            summary: summary.into(),
            since_year,
            willing_to_host,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn upsert(conn: &mut DbConn, new: &[NewExpertise]) -> QueryResult<usize> {
    use expertise::dsl as e;
    upsert_rows!(conn, new, v => diesel::insert_into(e::expertise)
    .values(v)
    .on_conflict((e::organisation_id, e::topic_id))
    .do_update()
    .set((
        e::level.eq(excluded(e::level)),
        e::summary.eq(excluded(e::summary)),
        e::since_year.eq(excluded(e::since_year)),
        e::willing_to_host.eq(excluded(e::willing_to_host)),
        e::updated_at.eq(excluded(e::updated_at)),
    )))
}

/// Removes one expertise entry; returns how many rows went (0 or 1).
pub fn delete(
    conn: &mut DbConn,
    organisation: OrganisationId,
    topic: crate::domain::topic::TopicId,
) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(expertise::table.find((organisation.0, topic.0))).execute(c))
}
