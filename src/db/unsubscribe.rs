//! One-click unsubscribe tokens (the digest's `List-Unsubscribe` link).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::unsubscribe_tokens as t;
use super::{dispatch, DbConn};
use crate::domain::account::UserId;

/// Stores a token's hash for `user`.
pub fn insert(conn: &mut DbConn, hash: &str, user: UserId, now: NaiveDateTime) -> QueryResult<()> {
    dispatch!(conn, c => diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(hash),
            t::user_id.eq(user.0),
            t::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// A stored token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub id: i64,
    pub user: UserId,
    pub created_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// The token with this hash.
pub fn find(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Found>> {
    let row: Option<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)> = dispatch!(conn, c => t::table
        .filter(t::token_hash.eq(hash))
        .select((t::id, t::user_id, t::created_at, t::used_at))
        .first(c)
        .optional())?;
    Ok(row.map(|(id, user, created_at, used_at)| Found {
        id,
        user: UserId(user),
        created_at,
        used_at,
    }))
}

/// Uses the token; `false` when it was used already (also by a concurrent
/// request: the condition decides).
pub fn use_once(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::update(t::table.filter(t::id.eq(id)).filter(t::used_at.is_null()))
        .set(t::used_at.eq(Some(now)))
        .execute(c))?;
    Ok(n == 1)
}

/// Up to `limit` tokens used before `cut`, or that stopped working (after
/// [`crate::domain::digest::UNSUBSCRIBE_LINK_DAYS`]) before it.
pub fn expired_ids(conn: &mut DbConn, cut: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    let made_before = cut - chrono::Duration::days(crate::domain::digest::UNSUBSCRIBE_LINK_DAYS);
    dispatch!(conn, c => t::table
        .filter(t::used_at.lt(cut).or(t::created_at.lt(made_before)))
        .select(t::id)
        .order(t::id)
        .limit(limit)
        .load(c))
}

pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(t::table.filter(t::id.eq_any(ids))).execute(c))
}

/// Every token of `user`, gone (erasure).
pub fn forget(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(t::table.filter(t::user_id.eq(user.0))).execute(c))
}
