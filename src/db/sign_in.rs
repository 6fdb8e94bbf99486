//! Sign-in links (invitations and password resets): only the SHA-256 of
//! each token is stored, and a link is consumed by a conditional update,
//! so two clicks at once use it once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::account_links;
use super::{dispatch, DbConn};
use crate::domain::account::{SignInPurpose, UserId};

/// A stored link, found by its token's hash.
#[derive(Debug, Clone)]
pub struct StoredLink {
    pub id: i64,
    pub user: UserId,
    pub purpose: SignInPurpose,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a new link for `user` and retires their earlier unused links of
/// the same purpose: only the newest email works.
pub fn insert(
    conn: &mut DbConn,
    user: UserId,
    purpose: SignInPurpose,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user.0))
            .filter(account_links::purpose.eq(purpose.as_str()))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(now))
    .execute(c))?;
    dispatch!(conn, c => diesel::insert_into(account_links::table)
        .values((
            account_links::user_id.eq(user.0),
            account_links::purpose.eq(purpose.as_str()),
            account_links::token_hash.eq(token_hash),
            account_links::expires_at.eq(expires_at),
            account_links::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<StoredLink>> {
    type Row = (i64, i64, String, NaiveDateTime, Option<NaiveDateTime>);
    let row: Option<Row> = dispatch!(conn, c => account_links::table
        .filter(account_links::token_hash.eq(token_hash))
        .select((
            account_links::id,
            account_links::user_id,
            account_links::purpose,
            account_links::expires_at,
            account_links::used_at,
        ))
        .first(c)
        .optional())?;
    row.map(|(id, user, purpose, expires_at, used_at)| {
        let purpose = purpose.parse().map_err(|_| {
            diesel::result::Error::DeserializationError(
                format!("stored link purpose '{purpose}' is not valid").into(),
            )
        })?;
        Ok(StoredLink {
            id,
            user: UserId(user),
            purpose,
            expires_at,
            used_at,
        })
    })
    .transpose()
}

/// Marks the link used if it still was usable at `now`; `false` when
/// somebody else used it first or it expired.
pub fn consume(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        account_links::table
            .filter(account_links::id.eq(id))
            .filter(account_links::used_at.is_null())
            .filter(account_links::expires_at.gt(now)),
    )
    .set(account_links::used_at.eq(now))
    .execute(c))?;
    Ok(changed == 1)
}

/// Retires every unused link of `user` (a password was set; the account
/// was erased).
pub fn retire_all(conn: &mut DbConn, user: UserId, now: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user.0))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(now))
    .execute(c))
}

/// Ids of links used or expired before `cut` (retention), up to `limit`.
pub fn expired_ids(conn: &mut DbConn, cut: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    dispatch!(conn, c => account_links::table
        .filter(
            account_links::used_at
                .lt(cut)
                .or(account_links::expires_at.lt(cut)),
        )
        .select(account_links::id)
        .order(account_links::id)
        .limit(limit)
        .load(c))
}

pub fn delete(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    dispatch!(conn, c => diesel::delete(account_links::table.filter(account_links::id.eq_any(ids)))
        .execute(c))
}
