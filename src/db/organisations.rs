//! Organisation repository.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{expertise, organisations};
use super::{dispatch, DbConn};
use crate::domain::import::Stored;
use crate::domain::organisation::ProfileChanges;
use crate::domain::organisation::{
    ContactEmail, Language, Organisation, OrganisationId, OrganisationKind,
    DEFAULT_MONTHLY_CAPACITY,
};
use crate::domain::pagination::Cursor;
use crate::domain::search;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = organisations, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OrganisationRow {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub name_key: String,
    pub province: Option<String>,
    pub size: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub contact_email: Option<String>,
    pub language: String,
    pub monthly_capacity: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub active: bool,
}

/// A stored value outside the domain's range means the database was edited
/// by hand; say so rather than guess.
fn corrupt(what: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!("stored {what} '{value}' is not valid").into(),
    )
}

impl OrganisationRow {
    pub fn into_domain(self) -> QueryResult<Organisation> {
        Ok(Organisation {
            id: OrganisationId(self.id),
            kind: self.kind.parse().map_err(|_| corrupt("kind", &self.kind))?,
            language: self
                .language
                .parse()
                .map_err(|_| corrupt("language", &self.language))?,
            code: self.code,
            name: self.name,
            province: self.province,
            size: self.size,
            latitude: self.latitude,
            longitude: self.longitude,
            contact_email: self.contact_email,
            monthly_capacity: self.monthly_capacity,
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// Filters of the directory listing; all optional, combined with AND.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub kind: Option<OrganisationKind>,
    pub province: Option<&'static str>,
    pub topic_id: Option<i64>,
    /// Already folded with [`search::fold`]; matched as a substring of `name_key`.
    pub name_contains: Option<String>,
    pub after: Option<Cursor>,
    pub limit: i64,
    /// `Some(true)` for the public directory; `None` (admins) lists all.
    pub active: Option<bool>,
}

/// One page in (name_key, id) order. Returns up to `limit + 1` rows so the
/// caller can tell whether another page follows.
pub fn list(conn: &mut DbConn, filter: &ListFilter) -> QueryResult<Vec<Organisation>> {
    use organisations::dsl as o;
    let rows: Vec<OrganisationRow> = dispatch!(conn, c => {
        let mut query = o::organisations
            .select(OrganisationRow::as_select())
            .order((o::name_key.asc(), o::id.asc()))
            .limit(filter.limit + 1)
            .into_boxed();
        if let Some(active) = filter.active {
            query = query.filter(o::active.eq(active));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(o::kind.eq(kind.as_str()));
        }
        if let Some(province) = filter.province {
            query = query.filter(o::province.eq(province));
        }
        if let Some(topic_id) = filter.topic_id {
            query = query.filter(
                o::id.eq_any(
                    expertise::table
                        .select(expertise::organisation_id)
                        .filter(expertise::topic_id.eq(topic_id)),
                ),
            );
        }
        if let Some(needle) = &filter.name_contains {
            // `needle` holds only [a-z0-9 ]: no LIKE wildcard can slip in.
            query = query.filter(o::name_key.like(format!("%{needle}%")));
        }
        if let Some(after) = &filter.after {
            query = query.filter(
                o::name_key
                    .gt(after.name_key.clone())
                    .or(o::name_key.eq(after.name_key.clone()).and(o::id.gt(after.id))),
            );
        }
        query.load(c)
    })?;
    rows.into_iter().map(OrganisationRow::into_domain).collect()
}

/// Every active organisation's id, name and contact address (where one is
/// set), by name.
/// An active organisation's contact address.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: OrganisationId,
    pub name: String,
    pub email: String,
}

pub fn contacts(conn: &mut DbConn) -> QueryResult<Vec<Contact>> {
    let rows: Vec<(i64, String, Option<String>)> = dispatch!(conn, c => organisations::table
        .filter(organisations::active.eq(true))
        .filter(organisations::contact_email.is_not_null())
        .order(organisations::name.asc())
        .select((organisations::id, organisations::name, organisations::contact_email))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, email)| {
            email.map(|email| Contact {
                id: OrganisationId(id),
                name,
                email,
            })
        })
        .collect())
}

/// Locks the organisation's row until the transaction ends, for a
/// read-modify-write (PostgreSQL: `SELECT … FOR NO KEY UPDATE`, which at READ
/// COMMITTED waits for a concurrent writer and then sees its change;
/// SQLite's immediate transaction already lets one writer in at a time).
/// Whether the row exists.
pub fn lock(conn: &mut DbConn, id: OrganisationId) -> QueryResult<bool> {
    match conn {
        // NO KEY UPDATE, the lock an UPDATE of the row takes anyway: it
        // serialises changes of the organisation but lets rows that refer
        // to it (link tokens, lessons, visits) be written meanwhile. FOR
        // UPDATE blocked those, and a profile edit waiting for the
        // directory's version row then deadlocked with a scheduled job.
        DbConn::Pg(c) => Ok(organisations::table
            .find(id.0)
            .select(organisations::id)
            .for_no_key_update()
            .first::<i64>(&mut **c)
            .optional()?
            .is_some()),
        DbConn::Sqlite(_) => Ok(true),
    }
}

pub fn find(conn: &mut DbConn, id: OrganisationId) -> QueryResult<Option<Organisation>> {
    let row: Option<OrganisationRow> = dispatch!(conn, c => organisations::table
        .find(id.0)
        .select(OrganisationRow::as_select())
        .first(c)
        .optional())?;
    row.map(OrganisationRow::into_domain).transpose()
}

/// Whether the organisation exists and is active.
pub fn is_active(conn: &mut DbConn, id: OrganisationId) -> QueryResult<bool> {
    let active: Option<bool> = dispatch!(conn, c => organisations::table
        .find(id.0)
        .select(organisations::active)
        .first(c)
        .optional())?;
    Ok(active == Some(true))
}

/// Activates or deactivates; returns whether the organisation exists.
pub fn set_active(conn: &mut DbConn, id: OrganisationId, active: bool) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(organisations::table.find(id.0))
        .set((organisations::active.eq(active), organisations::updated_at.eq(super::now())))
        .execute(c))?;
    Ok(changed > 0)
}

pub fn id_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<OrganisationId>> {
    let id: Option<i64> = dispatch!(conn, c => organisations::table
        .filter(organisations::code.eq(code))
        .select(organisations::id)
        .first(c)
        .optional())?;
    Ok(id.map(OrganisationId))
}

/// Serialises imports for the rest of the transaction, so that the counts
/// an import reports (inserted/updated/unchanged) are exact even when two run
/// at once. Readers are not blocked. SQLite's `BEGIN IMMEDIATE` already
/// serialises writers.
pub fn lock_for_import(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => c.batch_execute("LOCK TABLE organisations IN SHARE ROW EXCLUSIVE MODE"),
    }
}

/// Bind parameters stay well below SQLite's and PostgreSQL's limits.
const CHUNK: usize = 1000;

/// What an import may change of the organisations with these codes.
pub fn stored_by_code(conn: &mut DbConn, codes: &[&str]) -> QueryResult<HashMap<String, Stored>> {
    use organisations::dsl as o;
    let mut out = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(CHUNK) {
        type StoredTuple = (
            String,
            String,
            String,
            Option<String>,
            i64,
            f64,
            f64,
            Option<String>,
            String,
        );
        let rows: Vec<StoredTuple> = dispatch!(conn, c => o::organisations
            .filter(o::code.eq_any(chunk))
            .select((o::code, o::kind, o::name, o::province, o::size, o::latitude, o::longitude, o::contact_email, o::language))
            .load(c))?;
        for (code, kind, name, province, size, latitude, longitude, contact_email, language) in rows
        {
            let stored = Stored {
                kind: kind.parse().map_err(|_| corrupt("kind", &kind))?,
                language: language
                    .parse()
                    .map_err(|_| corrupt("language", &language))?,
                name,
                province,
                size,
                latitude,
                longitude,
                contact_email,
            };
            out.insert(code, stored);
        }
    }
    Ok(out)
}

// NULL stays NULL: with constant SQL, SQLite reuses one prepared statement
// for every row instead of preparing a new one per column combination.
#[derive(Insertable)]
#[diesel(table_name = organisations, treat_none_as_default_value = false)]
struct NewOrganisation<'a> {
    code: &'a str,
    kind: &'a str,
    name: &'a str,
    name_key: String,
    province: Option<&'a str>,
    size: i64,
    latitude: f64,
    longitude: f64,
    contact_email: Option<&'a str>,
    language: &'a str,
    monthly_capacity: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn new_rows<'a>(rows: &'a [(&'a str, Stored)], now: NaiveDateTime) -> Vec<NewOrganisation<'a>> {
    rows.iter()
        .map(|(code, s)| NewOrganisation {
            code,
            kind: s.kind.as_str(),
            name: &s.name,
            name_key: search::fold(&s.name),
            province: s.province.as_deref(),
            size: s.size,
            latitude: s.latitude,
            longitude: s.longitude,
            contact_email: s.contact_email.as_deref(),
            language: s.language.as_str(),
            monthly_capacity: DEFAULT_MONTHLY_CAPACITY,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

#[derive(AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
struct OrganisationChanges<'a> {
    kind: &'a str,
    name: &'a str,
    name_key: String,
    province: Option<&'a str>,
    size: i64,
    latitude: f64,
    longitude: f64,
    contact_email: Option<&'a str>,
    language: &'a str,
    updated_at: NaiveDateTime,
}

/// Inserts one organisation; `Ok(None)` when its code is taken.
pub fn insert_one(
    conn: &mut DbConn,
    code: &str,
    fields: &Stored,
    monthly_capacity: i32,
) -> QueryResult<Option<OrganisationId>> {
    let one = [(code, fields.clone())];
    let mut rows = new_rows(&one, super::now());
    rows[0].monthly_capacity = monthly_capacity;
    let row = &rows[0];
    let id: Option<i64> = dispatch!(conn, c => diesel::insert_into(organisations::table)
        .values(row)
        .on_conflict(organisations::code)
        .do_nothing()
        .returning(organisations::id)
        .get_result(c)
        .optional())?;
    Ok(id.map(OrganisationId))
}

/// Inserts new organisations (capacity gets its default). The caller holds
/// the import lock, so it knows these codes are new.
pub fn insert(
    conn: &mut DbConn,
    rows: &[(&str, Stored)],
    progress: &mut dyn FnMut(u64),
) -> QueryResult<()> {
    let now = super::now();
    for chunk in rows.chunks(CHUNK) {
        let values = new_rows(chunk, now);
        dispatch!(conn, c => diesel::insert_into(organisations::table).values(&values).execute(c))?;
        progress(chunk.len() as u64);
    }
    Ok(())
}

/// Overwrites the importable fields of existing organisations, by code.
///
/// Dialects differ here: on SQLite one UPDATE per row is fastest (its SQL never
/// varies, so it is prepared once; diesel re-prepares every ON CONFLICT
/// statement). On PostgreSQL a per-row UPDATE costs a round trip each, so a
/// chunk goes as one multi-row INSERT … ON CONFLICT DO UPDATE, which only
/// ever takes the update branch because every code exists.
pub fn update(
    conn: &mut DbConn,
    rows: &[(&str, Stored)],
    progress: &mut dyn FnMut(u64),
) -> QueryResult<()> {
    use organisations::dsl as o;
    let now = super::now();
    for chunk in rows.chunks(CHUNK) {
        match conn {
            DbConn::Sqlite(c) => {
                for (code, s) in chunk {
                    diesel::update(o::organisations.filter(o::code.eq(code)))
                        .set(&OrganisationChanges {
                            kind: s.kind.as_str(),
                            name: &s.name,
                            name_key: search::fold(&s.name),
                            province: s.province.as_deref(),
                            size: s.size,
                            latitude: s.latitude,
                            longitude: s.longitude,
                            contact_email: s.contact_email.as_deref(),
                            language: s.language.as_str(),
                            updated_at: now,
                        })
                        .execute(&mut **c)?;
                }
            }
            DbConn::Pg(c) => {
                diesel::insert_into(o::organisations)
                    .values(new_rows(chunk, now))
                    .on_conflict(o::code)
                    .do_update()
                    .set((
                        o::kind.eq(excluded(o::kind)),
                        o::name.eq(excluded(o::name)),
                        o::name_key.eq(excluded(o::name_key)),
                        o::province.eq(excluded(o::province)),
                        o::size.eq(excluded(o::size)),
                        o::latitude.eq(excluded(o::latitude)),
                        o::longitude.eq(excluded(o::longitude)),
                        o::contact_email.eq(excluded(o::contact_email)),
                        o::language.eq(excluded(o::language)),
                        o::updated_at.eq(excluded(o::updated_at)),
                    ))
                    .execute(&mut **c)?;
            }
        }
        progress(chunk.len() as u64);
    }
    Ok(())
}

#[derive(AsChangeset)]
#[diesel(table_name = organisations)]
struct ProfileChangeset<'a> {
    name: Option<&'a str>,
    name_key: Option<String>,
    province: Option<&'a str>,
    size: Option<i64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    contact_email: Option<&'a str>,
    language: Option<&'a str>,
    monthly_capacity: Option<i32>,
    updated_at: NaiveDateTime,
}

pub fn update_profile(
    conn: &mut DbConn,
    id: OrganisationId,
    changes: &ProfileChanges,
) -> QueryResult<()> {
    let changeset = ProfileChangeset {
        name: changes.name.as_deref(),
        name_key: changes.name.as_deref().map(search::fold),
        province: changes.province,
        size: changes.size,
        latitude: changes.latitude,
        longitude: changes.longitude,
        contact_email: changes.contact_email.as_ref().map(ContactEmail::as_str),
        language: changes.language.map(Language::as_str),
        monthly_capacity: changes.monthly_capacity,
        updated_at: super::now(),
    };
    dispatch!(conn, c => diesel::update(organisations::table.find(id.0)).set(&changeset).execute(c))?;
    Ok(())
}
