//! Topic repository.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::topics;
use super::{dispatch, upsert_rows, DbConn};
use crate::domain::topic::{Topic, TopicChanges, TopicId};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = topics, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct TopicRow {
    pub id: i64,
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
    pub description_nl: String,
    pub description_en: String,
    pub active: bool,
}

impl From<TopicRow> for Topic {
    fn from(r: TopicRow) -> Topic {
        Topic {
            id: TopicId(r.id),
            slug: r.slug,
            name_nl: r.name_nl,
            name_en: r.name_en,
            description_nl: r.description_nl,
            description_en: r.description_en,
            active: r.active,
        }
    }
}

/// The topics by slug: only the active ones unless `with_retired`.
pub fn all(conn: &mut DbConn, with_retired: bool) -> QueryResult<Vec<Topic>> {
    let rows: Vec<TopicRow> = dispatch!(conn, c => {
        let mut query = topics::table
            .select(TopicRow::as_select())
            .order(topics::slug.asc())
            .into_boxed();
        if !with_retired {
            query = query.filter(topics::active.eq(true));
        }
        query.load(c)
    })?;
    Ok(rows.into_iter().map(Topic::from).collect())
}

/// The topic with this slug, retired or not: callers decide what a
/// retired topic means to them.
pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Topic>> {
    let row: Option<TopicRow> = dispatch!(conn, c => topics::table
        .filter(topics::slug.eq(slug))
        .select(TopicRow::as_select())
        .first(c)
        .optional())?;
    Ok(row.map(Topic::from))
}

/// A topic to create or update by slug.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = topics)]
pub struct NewTopic {
    pub slug: String,
    pub name_nl: String,
    pub name_en: String,
    pub description_nl: String,
    pub description_en: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewTopic {
    pub fn new(
        slug: &str,
        name_nl: &str,
        name_en: &str,
        description_nl: &str,
        description_en: &str,
    ) -> Self {
        let now = super::now();
        NewTopic {
            slug: slug.into(),
            name_nl: name_nl.into(),
            name_en: name_en.into(),
            description_nl: description_nl.into(),
            description_en: description_en.into(),
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn upsert(conn: &mut DbConn, new: &[NewTopic]) -> QueryResult<usize> {
    use topics::dsl as t;
    upsert_rows!(conn, new, v => diesel::insert_into(t::topics)
    .values(v)
    .on_conflict(t::slug)
    .do_update()
    .set((
        t::name_nl.eq(excluded(t::name_nl)),
        t::name_en.eq(excluded(t::name_en)),
        t::description_nl.eq(excluded(t::description_nl)),
        t::description_en.eq(excluded(t::description_en)),
        t::updated_at.eq(excluded(t::updated_at)),
    )))
}

/// Inserts one topic; `Ok(None)` when the slug is taken.
pub fn insert_one(conn: &mut DbConn, new: &NewTopic) -> QueryResult<Option<Topic>> {
    let row: Option<TopicRow> = dispatch!(conn, c => diesel::insert_into(topics::table)
        .values(new)
        .on_conflict(topics::slug)
        .do_nothing()
        .returning(TopicRow::as_returning())
        .get_result(c)
        .optional())?;
    Ok(row.map(Topic::from))
}

/// The columns [`TopicChanges`] sets.
#[derive(AsChangeset)]
#[diesel(table_name = topics)]
struct TopicChangeset<'a> {
    name_nl: Option<&'a str>,
    name_en: Option<&'a str>,
    description_nl: Option<&'a str>,
    description_en: Option<&'a str>,
    active: Option<bool>,
}

impl<'a> From<&'a TopicChanges> for TopicChangeset<'a> {
    fn from(c: &'a TopicChanges) -> Self {
        TopicChangeset {
            name_nl: c.name_nl.as_deref(),
            name_en: c.name_en.as_deref(),
            description_nl: c.description_nl.as_deref(),
            description_en: c.description_en.as_deref(),
            active: c.active,
        }
    }
}

/// Applies the changes; `Ok(None)` when no topic has this slug.
pub fn update(conn: &mut DbConn, slug: &str, changes: &TopicChanges) -> QueryResult<Option<Topic>> {
    let row: Option<TopicRow> = dispatch!(conn, c => diesel::update(topics::table.filter(topics::slug.eq(slug)))
        .set((TopicChangeset::from(changes), topics::updated_at.eq(super::now())))
        .returning(TopicRow::as_returning())
        .get_result(c)
        .optional())?;
    Ok(row.map(Topic::from))
}
