//! Single sign-on: which account a provider's subject is, which
//! organisation (and provider) an email domain belongs to, and whether an
//! organisation still allows password login.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organisations, sso_domains, sso_subjects, users};
use super::{dispatch, DbConn};
use crate::domain::account::{DomainMapping, UserId};
use crate::domain::organisation::OrganisationId;

/// The account linked to `subject` at `provider`.
pub fn linked(conn: &mut DbConn, provider: &str, subject: &str) -> QueryResult<Option<UserId>> {
    let id: Option<i64> = dispatch!(conn, c => sso_subjects::table
        .filter(sso_subjects::provider.eq(provider))
        .filter(sso_subjects::subject.eq(subject))
        .select(sso_subjects::user_id)
        .first(c)
        .optional())?;
    Ok(id.map(UserId))
}

/// Links `subject` at `provider` to `user` (replacing an earlier link of
/// that subject).
pub fn link(
    conn: &mut DbConn,
    provider: &str,
    subject: &str,
    user: UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    dispatch!(conn, c => diesel::delete(
        sso_subjects::table
            .filter(sso_subjects::provider.eq(provider))
            .filter(sso_subjects::subject.eq(subject)),
    )
    .execute(c))?;
    dispatch!(conn, c => diesel::insert_into(sso_subjects::table)
        .values((
            sso_subjects::provider.eq(provider),
            sso_subjects::subject.eq(subject),
            sso_subjects::user_id.eq(user.0),
            sso_subjects::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

pub fn domain(conn: &mut DbConn, domain: &str) -> QueryResult<Option<DomainMapping>> {
    let row: Option<(String, i64, String)> = dispatch!(conn, c => sso_domains::table
        .filter(sso_domains::domain.eq(domain))
        .select((sso_domains::domain, sso_domains::organisation_id, sso_domains::provider))
        .first(c)
        .optional())?;
    Ok(row.map(|(domain, organisation, provider)| DomainMapping {
        domain,
        organisation: OrganisationId(organisation),
        provider,
    }))
}

pub fn domains(conn: &mut DbConn) -> QueryResult<Vec<DomainMapping>> {
    let rows: Vec<(String, i64, String)> = dispatch!(conn, c => sso_domains::table
        .order(sso_domains::domain)
        .select((sso_domains::domain, sso_domains::organisation_id, sso_domains::provider))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(domain, organisation, provider)| DomainMapping {
            domain,
            organisation: OrganisationId(organisation),
            provider,
        })
        .collect())
}

/// Sets (or replaces) a domain's mapping.
pub fn set_domain(conn: &mut DbConn, m: &DomainMapping, now: NaiveDateTime) -> QueryResult<()> {
    remove_domain(conn, &m.domain)?;
    dispatch!(conn, c => diesel::insert_into(sso_domains::table)
        .values((
            sso_domains::domain.eq(&m.domain),
            sso_domains::organisation_id.eq(m.organisation.0),
            sso_domains::provider.eq(&m.provider),
            sso_domains::created_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// `false` when the domain had no mapping.
pub fn remove_domain(conn: &mut DbConn, domain: &str) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::delete(sso_domains::table.filter(sso_domains::domain.eq(domain)))
        .execute(c))?;
    Ok(n > 0)
}

/// Whether the account's organisation allows password login (admins,
/// without one, always may).
pub fn password_login(conn: &mut DbConn, user: UserId) -> QueryResult<bool> {
    let allowed: Option<Option<bool>> = dispatch!(conn, c => users::table
        .left_join(organisations::table)
        .filter(users::id.eq(user.0))
        .select(organisations::password_login.nullable())
        .first(c)
        .optional())?;
    Ok(allowed.flatten().unwrap_or(true))
}

pub fn set_password_login(
    conn: &mut DbConn,
    organisation: OrganisationId,
    allowed: bool,
) -> QueryResult<bool> {
    let n = dispatch!(conn, c => diesel::update(organisations::table.find(organisation.0))
        .set(organisations::password_login.eq(allowed))
        .execute(c))?;
    Ok(n > 0)
}
