//! Two-step verification: the account's TOTP secret (and the one being set
//! up), the last step used, and recovery codes (hashes, each used once by a
//! conditional update).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{recovery_codes, users};
use super::{dispatch, DbConn};
use crate::domain::account::UserId;

/// The secret being set up (not yet in use), replacing any earlier one.
pub fn set_pending(conn: &mut DbConn, user: UserId, secret: Option<&str>) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(user.0))
        .set(users::totp_pending.eq(secret))
        .execute(c))?;
    Ok(())
}

pub fn pending(conn: &mut DbConn, user: UserId) -> QueryResult<Option<String>> {
    let pending: Option<Option<String>> = dispatch!(conn, c => users::table
        .find(user.0)
        .select(users::totp_pending)
        .first(c)
        .optional())?;
    Ok(pending.flatten())
}

/// The secret in use and the last step a code was accepted for.
pub fn secret(conn: &mut DbConn, user: UserId) -> QueryResult<Option<(String, Option<i64>)>> {
    let row: Option<(Option<String>, Option<i64>)> = dispatch!(conn, c => users::table
        .find(user.0)
        .select((users::totp_secret, users::totp_last_step))
        .first(c)
        .optional())?;
    Ok(row.and_then(|(secret, step)| secret.map(|s| (s, step))))
}

/// Turns it on with `secret` (the one confirmed), from `step` on.
pub fn enable(
    conn: &mut DbConn,
    user: UserId,
    secret: &str,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(user.0))
        .set((
            users::totp_secret.eq(secret),
            users::totp_pending.eq(None::<String>),
            users::totp_enabled_at.eq(now),
            users::totp_last_step.eq(step),
        ))
        .execute(c))?;
    Ok(())
}

/// Turns it off: the secret and every recovery code go.
pub fn disable(conn: &mut DbConn, user: UserId) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(user.0))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_pending.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(c))?;
    dispatch!(conn, c => diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0)))
        .execute(c))?;
    Ok(())
}

/// Records that a code of `step` was used; `false` when that step (or a
/// later one) was used already: each code works once.
pub fn use_step(conn: &mut DbConn, user: UserId, step: i64) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        users::table
            .find(user.0)
            .filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))),
    )
    .set(users::totp_last_step.eq(step))
    .execute(c))?;
    Ok(changed == 1)
}

/// Replaces the account's recovery codes by these hashes.
pub fn replace_codes(
    conn: &mut DbConn,
    user: UserId,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0)))
        .execute(c))?;
    for hash in hashes {
        dispatch!(conn, c => diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user.0),
                recovery_codes::code_hash.eq(hash),
                recovery_codes::created_at.eq(now),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Uses the recovery code with this hash; `false` when it is not one of
/// the account's or was used already.
pub fn use_code(
    conn: &mut DbConn,
    user: UserId,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user.0))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(c))?;
    Ok(changed >= 1)
}

/// Recovery codes not used yet.
pub fn codes_left(conn: &mut DbConn, user: UserId) -> QueryResult<i64> {
    dispatch!(conn, c => recovery_codes::table
        .filter(recovery_codes::user_id.eq(user.0))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c))
}

/// When it was turned on.
pub fn enabled_at(conn: &mut DbConn, user: UserId) -> QueryResult<Option<NaiveDateTime>> {
    let at: Option<Option<NaiveDateTime>> = dispatch!(conn, c => users::table
        .find(user.0)
        .select(users::totp_enabled_at)
        .first(c)
        .optional())?;
    Ok(at.flatten())
}
