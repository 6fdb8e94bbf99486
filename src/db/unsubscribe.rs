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

/// (token id, whose, when used) of the token with this hash.
pub fn find(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<(i64, UserId, Option<NaiveDateTime>)>> {
    let row: Option<(i64, i64, Option<NaiveDateTime>)> = dispatch!(conn, c => t::table
        .filter(t::token_hash.eq(hash))
        .select((t::id, t::user_id, t::used_at))
        .first(c)
        .optional())?;
    Ok(row.map(|(id, user, used)| (id, UserId(user), used)))
}

/// Uses the token; `false` when it was used already (also by a concurrent
/// request: the condition decides).
pub fn use_once(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::update(t::table.filter(t::id.eq(id)).filter(t::used_at.is_null()))
        .set(t::used_at.eq(Some(now)))
        .execute(c))?;
    Ok(n == 1)
}

/// Every token of `user`, gone (erasure).
pub fn forget(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(t::table.filter(t::user_id.eq(user.0))).execute(c))
}
