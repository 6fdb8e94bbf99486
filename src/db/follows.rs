//! The topics people follow (for the monthly digest).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{topic_follows, topics};
use super::topics::TopicRow;
use super::{dispatch, DbConn};
use crate::domain::account::UserId;
use crate::domain::topic::{Topic, TopicId};

/// The topics `user` follows, by slug, with when they started.
pub fn of_user(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<(Topic, NaiveDateTime)>> {
    let rows: Vec<(TopicRow, NaiveDateTime)> = dispatch!(conn, c => topic_follows::table
        .inner_join(topics::table)
        .filter(topic_follows::user_id.eq(user.0))
        .order(topics::slug.asc())
        .select((TopicRow::as_select(), topic_follows::created_at))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(t, at)| (Topic::from(t), at))
        .collect())
}

/// Starts following; `false` when `user` followed it already.
pub fn follow(
    conn: &mut DbConn,
    user: UserId,
    topic: TopicId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::insert_into(topic_follows::table)
        .values((
            topic_follows::user_id.eq(user.0),
            topic_follows::topic_id.eq(topic.0),
            topic_follows::created_at.eq(now),
        ))
        .on_conflict((topic_follows::user_id, topic_follows::topic_id))
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Stops following; `false` when `user` did not follow it.
pub fn unfollow(conn: &mut DbConn, user: UserId, topic: TopicId) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::delete(
        topic_follows::table
            .filter(topic_follows::user_id.eq(user.0))
            .filter(topic_follows::topic_id.eq(topic.0)),
    )
    .execute(c))?;
    Ok(n == 1)
}

/// Every topic `user` follows, gone (erasure).
pub fn forget(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(topic_follows::table.filter(topic_follows::user_id.eq(user.0)))
        .execute(c))
}
