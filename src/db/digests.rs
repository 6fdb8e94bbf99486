//! The monthly digest's bookkeeping: who had which month's digest, and the
//! best in class of each topic as they stood at each month's digest.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{digest_leaders, digests, topic_follows, users};
use super::{dispatch, DbConn};
use crate::domain::account::UserId;

/// Up to `limit` active accounts, by id, that followed a topic before
/// `followed_before` and have no digest row for `month` yet.
pub fn due(
    conn: &mut DbConn,
    month: &str,
    followed_before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<UserId>> {
    use diesel::dsl::{exists, not};
    let ids: Vec<i64> = dispatch!(conn, c => users::table
        .inner_join(topic_follows::table.on(topic_follows::user_id.eq(users::id)))
        .filter(users::active.eq(true))
        .filter(topic_follows::created_at.lt(followed_before))
        .filter(not(exists(
            digests::table
                .filter(digests::user_id.eq(users::id))
                .filter(digests::month.eq(month)),
        )))
        .select(users::id)
        .distinct()
        .order(users::id)
        .limit(limit)
        .load(c))?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Takes `user`'s digest of `month` for this transaction: `false` when
/// another instance (or an earlier round) did. The row decides, so of
/// several schedulers exactly one composes it.
pub fn claim(
    conn: &mut DbConn,
    user: UserId,
    month: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::insert_into(digests::table)
        .values((
            digests::user_id.eq(user.0),
            digests::month.eq(month),
            digests::items.eq(0),
            digests::created_at.eq(now),
        ))
        .on_conflict((digests::user_id, digests::month))
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// How many new things the claimed digest held (0: none was sent).
pub fn record(conn: &mut DbConn, user: UserId, month: &str, items: i32) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(
        digests::table
            .filter(digests::user_id.eq(user.0))
            .filter(digests::month.eq(month)),
    )
    .set(digests::items.eq(items))
    .execute(c))?;
    Ok(())
}

/// (month, items, when) of every digest `user` had, oldest first (export).
pub fn of_user(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<(String, i32, NaiveDateTime)>> {
    dispatch!(conn, c => digests::table
        .filter(digests::user_id.eq(user.0))
        .order(digests::month.asc())
        .select((digests::month, digests::items, digests::created_at))
        .load(c))
}

/// Every digest row of `user`, gone (erasure).
pub fn forget(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(digests::table.filter(digests::user_id.eq(user.0)))
        .execute(c))
}

/// The bookkeeping of months before `month` ("YYYY-MM" sorts as text),
/// gone: a year of it is all the digest needs.
pub fn forget_before(conn: &mut DbConn, month: &str) -> QueryResult<usize> {
    let people = dispatch!(conn, c => diesel::delete(digests::table.filter(digests::month.lt(month)))
        .execute(c))?;
    let leaders = dispatch!(conn, c => diesel::delete(
        digest_leaders::table.filter(digest_leaders::month.lt(month)),
    )
    .execute(c))?;
    Ok(people + leaders)
}

/// Keeps `hosts` (a JSON array of organisation ids) as `topic`'s best in
/// class at `month`'s digest, unless another instance kept its own first:
/// then every instance reads that one.
pub fn remember_leaders(
    conn: &mut DbConn,
    topic: i64,
    month: &str,
    hosts: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::insert_into(digest_leaders::table)
        .values((
            digest_leaders::topic_id.eq(topic),
            digest_leaders::month.eq(month),
            digest_leaders::hosts.eq(hosts),
            digest_leaders::created_at.eq(now),
        ))
        .on_conflict((digest_leaders::topic_id, digest_leaders::month))
        .do_nothing()
        .execute(c))?;
    Ok(())
}

/// topic id → the JSON array of best in class kept at `month`'s digest.
pub fn leaders(conn: &mut DbConn, month: &str) -> QueryResult<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = dispatch!(conn, c => digest_leaders::table
        .filter(digest_leaders::month.eq(month))
        .select((digest_leaders::topic_id, digest_leaders::hosts))
        .load(c))?;
    Ok(rows.into_iter().collect())
}
