//! The append-only audit log of security events.

use diesel::prelude::*;

use super::schema::audit_log;
use super::{dispatch, DbConn};
pub use crate::domain::audit::AuditEntry;

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor: String,
    pub action: &'a str,
    pub address: Option<String>,
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct NewEntry<'a> {
    at: chrono::NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    address: Option<&'a str>,
    subject: Option<&'a str>,
    details: String,
}

/// Appends an event; call it inside the transaction of the change it records.
pub fn record(conn: &mut DbConn, event: &AuditEvent<'_>) -> QueryResult<()> {
    let entry = NewEntry {
        at: super::now(),
        actor: &event.actor,
        action: event.action,
        address: event.address.as_deref(),
        subject: event.subject.as_deref(),
        details: event.details.to_string(),
    };
    dispatch!(conn, c => diesel::insert_into(audit_log::table).values(&entry).execute(c))?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct EntryRow {
    id: i64,
    at: chrono::NaiveDateTime,
    actor: String,
    action: String,
    address: Option<String>,
    subject: Option<String>,
    details: String,
}

/// Newest first; `before` is the id of the last entry of the previous page.
pub fn page(conn: &mut DbConn, before: Option<i64>, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    let rows: Vec<EntryRow> = dispatch!(conn, c => {
        let mut query = audit_log::table
            .select(EntryRow::as_select())
            .order(audit_log::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(audit_log::id.lt(before));
        }
        query.load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at.and_utc(),
            actor: r.actor,
            action: r.action,
            address: r.address,
            subject: r.subject,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}
