//! Sessions: one row per login (browser or API token), found by the id its
//! signed token carries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sessions;
use super::{dispatch, DbConn};
use crate::domain::account::UserId;
use crate::domain::session::{Session, SessionKind};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct Row {
    id: i64,
    sid: String,
    user_id: i64,
    kind: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    address: Option<String>,
    user_agent: String,
}

impl Row {
    fn into_domain(self) -> QueryResult<Session> {
        Ok(Session {
            kind: self.kind.parse().map_err(|_| {
                diesel::result::Error::DeserializationError(
                    format!("stored session kind '{}' is not valid", self.kind).into(),
                )
            })?,
            id: self.id,
            sid: self.sid,
            user: UserId(self.user_id),
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            ended_at: self.ended_at,
            address: self.address,
            user_agent: self.user_agent,
        })
    }
}

/// A new session, from its start to `expires_at`.
pub struct NewSession<'a> {
    pub sid: &'a str,
    pub user: UserId,
    pub kind: SessionKind,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub address: Option<String>,
    pub user_agent: &'a str,
}

pub fn insert(conn: &mut DbConn, new: &NewSession<'_>) -> QueryResult<()> {
    dispatch!(conn, c => diesel::insert_into(sessions::table)
        .values((
            sessions::sid.eq(new.sid),
            sessions::user_id.eq(new.user.0),
            sessions::kind.eq(new.kind.as_str()),
            sessions::created_at.eq(new.now),
            sessions::last_seen_at.eq(new.now),
            sessions::expires_at.eq(new.expires_at),
            sessions::address.eq(new.address.as_deref()),
            sessions::user_agent.eq(new.user_agent),
        ))
        .execute(c))?;
    Ok(())
}

/// The session a token names (by its `sid`).
pub fn find(conn: &mut DbConn, sid: &str) -> QueryResult<Option<Session>> {
    let row: Option<Row> = dispatch!(conn, c => sessions::table
        .filter(sessions::sid.eq(sid))
        .select(Row::as_select())
        .first(c)
        .optional())?;
    row.map(Row::into_domain).transpose()
}

/// Writes down a use of the session.
pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// The sessions of `user` that have not ended or expired at `now`, most
/// recently used first (idle browser sessions are left to the caller).
pub fn open_of(conn: &mut DbConn, user: UserId, now: NaiveDateTime) -> QueryResult<Vec<Session>> {
    let rows: Vec<Row> = dispatch!(conn, c => sessions::table
        .filter(sessions::user_id.eq(user.0))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::last_seen_at.desc(), sessions::id.desc()))
        .select(Row::as_select())
        .load(c))?;
    rows.into_iter().map(Row::into_domain).collect()
}

/// Ends one session of `user`; `false` when it is not theirs or had ended.
pub fn end(conn: &mut DbConn, user: UserId, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now))
    .execute(c))?;
    Ok(changed == 1)
}

/// Ends every open session of `user` but `keep` (none when `keep` is `None`).
pub fn end_all(
    conn: &mut DbConn,
    user: UserId,
    keep: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let keep = keep.unwrap_or(0);
    dispatch!(conn, c => diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::id.ne(keep))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now))
    .execute(c))
}

/// Ids of sessions ended or expired before `cut` (retention), up to `limit`.
pub fn expired_ids(conn: &mut DbConn, cut: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    dispatch!(conn, c => sessions::table
        .filter(sessions::ended_at.lt(cut).or(sessions::expires_at.lt(cut)))
        .select(sessions::id)
        .order(sessions::id)
        .limit(limit)
        .load(c))
}

pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(sessions::table.filter(sessions::id.eq_any(ids)))
        .execute(c))
}
