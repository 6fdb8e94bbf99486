//! User repository.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organisations, users};
use super::{dispatch, DbConn};
use crate::domain::account::{User, UserId};
use crate::domain::organisation::OrganisationId;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    organisation_id: Option<i64>,
    active: bool,
    token_version: i32,
    totp_enabled_at: Option<chrono::NaiveDateTime>,
}

impl UserRow {
    fn into_domain(self) -> QueryResult<User> {
        Ok(User {
            id: UserId(self.id),
            role: self.role.parse().map_err(|_| {
                diesel::result::Error::DeserializationError(
                    format!("stored role '{}' is not valid", self.role).into(),
                )
            })?,
            email: self.email,
            name: self.name,
            organisation_id: self.organisation_id.map(OrganisationId),
            active: self.active,
            token_version: self.token_version,
            two_step: self.totp_enabled_at.is_some(),
        })
    }
}

/// Locks the account's row until the transaction ends, for a
/// read-modify-write (see `organisations::lock`: rows that refer to it may
/// still be written meanwhile).
pub fn lock(conn: &mut DbConn, id: UserId) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        users::table
            .find(id.0)
            .select(users::id)
            .for_no_key_update()
            .first::<i64>(&mut **c)
            .optional()?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    let row: Option<UserRow> = dispatch!(conn, c => users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(c)
        .optional())?;
    row.map(UserRow::into_domain).transpose()
}

/// The user, if the account and its organisation are active (a disabled
/// account counts as gone).
pub fn find_enabled(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    let row: Option<(UserRow, Option<bool>)> = dispatch!(conn, c => users::table
        .left_join(organisations::table)
        .filter(users::id.eq(id.0))
        .select((UserRow::as_select(), organisations::active.nullable()))
        .first(c)
        .optional())?;
    row.filter(|(u, org_active)| u.active && org_active.unwrap_or(true))
        .map(|(u, _)| u.into_domain())
        .transpose()
}

/// An account as logging in sees it.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: User,
    pub password_hash: String,
    /// The account and its organisation are active.
    pub enabled: bool,
    /// Its organisation allows password login (admins have none: always).
    pub password_login: bool,
}

/// The user, their password hash and whether they may log in, by address.
pub fn find_for_login(conn: &mut DbConn, email: &str) -> QueryResult<Option<Login>> {
    type Row = (UserRow, String, Option<bool>, Option<bool>);
    let row: Option<Row> = dispatch!(conn, c => users::table
        .left_join(organisations::table)
        .filter(users::email.eq(email))
        .select((
            UserRow::as_select(),
            users::password_hash,
            organisations::active.nullable(),
            organisations::password_login.nullable(),
        ))
        .first(c)
        .optional())?;
    row.map(|(u, hash, org_active, password_login)| {
        let enabled = u.active && org_active.unwrap_or(true);
        Ok(Login {
            user: u.into_domain()?,
            password_hash: hash,
            enabled,
            password_login: password_login.unwrap_or(true),
        })
    })
    .transpose()
}

/// A page of users in id order, after the given id; up to `limit` rows.
pub fn page(conn: &mut DbConn, after: Option<UserId>, limit: i64) -> QueryResult<Vec<User>> {
    let rows: Vec<UserRow> = dispatch!(conn, c => users::table
        .filter(users::id.gt(after.map_or(0, |a| a.0)))
        .order(users::id.asc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(c))?;
    rows.into_iter().map(UserRow::into_domain).collect()
}

/// The accounts of one organisation, in id order.
pub fn of_organisation(conn: &mut DbConn, organisation: OrganisationId) -> QueryResult<Vec<User>> {
    let rows: Vec<UserRow> = dispatch!(conn, c => users::table
        .filter(users::organisation_id.eq(organisation.0))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(c))?;
    rows.into_iter().map(UserRow::into_domain).collect()
}

/// The id of the account with this address (as stored: lower case).
pub fn id_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserId>> {
    let id: Option<i64> = dispatch!(conn, c => users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(users::id)
        .first(c)
        .optional())?;
    Ok(id.map(UserId))
}

/// Erasure: the account stays (visits, lessons and the audit log point at
/// it) but says nothing about the person any more and can never be used:
/// an address that reaches no one, `name`, no password, deactivated, every
/// token ended.
pub fn anonymise(conn: &mut DbConn, id: UserId, name: &str) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(id.0))
        .set((
            users::email.eq(format!("verwijderd-{}@meeloop.invalid", id.0)),
            users::name.eq(name),
            // Not a hash argon2 can verify against: no password matches.
            users::password_hash.eq("!"),
            users::active.eq(false),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(super::now()),
        ))
        .execute(c))?;
    super::sessions::end_all(conn, id, None, super::now())?;
    Ok(())
}

/// What an admin may change of an account. `organisation_id` is
/// `Some(None)` to clear it (an admin has none).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<&'static str>,
    pub organisation_id: Option<Option<i64>>,
    pub active: Option<bool>,
}

pub fn update(conn: &mut DbConn, id: UserId, changes: &UserChanges) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(id.0))
        .set((changes, users::updated_at.eq(super::now())))
        .execute(c))?;
    Ok(())
}

/// Stores a new password hash and revokes every token issued so far.
pub fn set_password(conn: &mut DbConn, id: UserId, hash: &str) -> QueryResult<()> {
    dispatch!(conn, c => diesel::update(users::table.find(id.0))
        .set(users::password_hash.eq(hash))
        .execute(c))?;
    bump_token_version(conn, id)
}

#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub organisation_id: Option<i64>,
    pub password_hash: &'a str,
    pub active: bool,
    pub token_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a user; `Ok(None)` when the email address is taken.
pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<Option<UserId>> {
    let inserted: Option<i64> = dispatch!(conn, c => diesel::insert_into(users::table)
        .values(new)
        .on_conflict(users::email)
        .do_nothing()
        .returning(users::id)
        .get_result(c)
        .optional())?;
    Ok(inserted.map(UserId))
}

/// Revokes every token issued so far to this user, and ends their
/// sessions (so the sessions page says so too).
pub fn bump_token_version(conn: &mut DbConn, id: UserId) -> QueryResult<()> {
    let now = super::now();
    dispatch!(conn, c => diesel::update(users::table.find(id.0))
        .set((users::token_version.eq(users::token_version + 1), users::updated_at.eq(now)))
        .execute(c))?;
    super::sessions::end_all(conn, id, None, now)?;
    Ok(())
}

/// Whether the account has a password of its own (an invited account has
/// none until its owner chooses one).
pub fn has_password(conn: &mut DbConn, id: UserId) -> QueryResult<bool> {
    let hash: Option<String> = dispatch!(conn, c => users::table
        .find(id.0)
        .select(users::password_hash)
        .first(c)
        .optional())?;
    Ok(hash.is_some_and(|h| h.starts_with("$argon2")))
}
