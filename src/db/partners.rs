//! Partner client repository.

use diesel::prelude::*;

use super::schema::partner_clients;
use super::{dispatch, DbConn};
use crate::domain::partner::{Partner, Scopes};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = partner_clients, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct PartnerRow {
    id: i64,
    client_id: String,
    name: String,
    scopes: String,
    active: bool,
    contact_email: Option<String>,
}

impl PartnerRow {
    fn into_domain(self) -> QueryResult<Partner> {
        Ok(Partner {
            scopes: Scopes::parse(&self.scopes)
                .map_err(|e| diesel::result::Error::DeserializationError(e.message.into()))?,
            id: self.id,
            client_id: self.client_id,
            name: self.name,
            active: self.active,
            contact_email: self.contact_email,
        })
    }
}

/// A partner with its secret hash, for issuing a token.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub partner: Partner,
    pub secret_hash: String,
}

pub fn find_with_secret(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<Credentials>> {
    let row: Option<(PartnerRow, String)> = dispatch!(conn, c => partner_clients::table
        .filter(partner_clients::client_id.eq(client_id))
        .select((PartnerRow::as_select(), partner_clients::secret_hash))
        .first(c)
        .optional())?;
    row.map(|(p, secret_hash)| {
        Ok(Credentials {
            partner: p.into_domain()?,
            secret_hash,
        })
    })
    .transpose()
}

pub fn find(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<Partner>> {
    Ok(find_with_secret(conn, client_id)?.map(|c| c.partner))
}

#[derive(Insertable)]
#[diesel(table_name = partner_clients)]
pub struct NewPartner<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub secret_hash: &'a str,
    pub scopes: String,
    pub active: bool,
    pub contact_email: Option<&'a str>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewPartner<'_>) -> QueryResult<()> {
    dispatch!(conn, c => diesel::insert_into(partner_clients::table).values(new).execute(c))?;
    Ok(())
}

/// Deactivates a partner; returns whether it existed and was active.
pub fn revoke(conn: &mut DbConn, client_id: &str) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        partner_clients::table
            .filter(partner_clients::client_id.eq(client_id))
            .filter(partner_clients::active.eq(true)),
    )
    .set((partner_clients::active.eq(false), partner_clients::updated_at.eq(super::now())))
    .execute(c))?;
    Ok(changed > 0)
}

/// Every partner client, oldest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Partner>> {
    let rows: Vec<PartnerRow> = dispatch!(conn, c => partner_clients::table
        .order(partner_clients::id.asc())
        .select(PartnerRow::as_select())
        .load(c))?;
    rows.into_iter().map(PartnerRow::into_domain).collect()
}

/// What an admin may change of a partner client; `None` leaves it alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = partner_clients)]
pub struct PartnerChanges {
    pub name: Option<String>,
    pub scopes: Option<String>,
    pub active: Option<bool>,
    pub contact_email: Option<Option<String>>,
}

/// Applies the changes; returns whether the client exists.
pub fn update(conn: &mut DbConn, client_id: &str, changes: &PartnerChanges) -> QueryResult<bool> {
    let changed = dispatch!(conn, c => diesel::update(
        partner_clients::table.filter(partner_clients::client_id.eq(client_id)),
    )
    .set((changes, partner_clients::updated_at.eq(super::now())))
    .execute(c))?;
    Ok(changed > 0)
}
