//! Use cases: one function per user action, each in one transaction.
//! Handlers and the CLI call these; they never touch `db` themselves.

pub mod accounts;
pub mod admin;
pub mod demo;
pub mod directory;
pub mod import;
pub mod lessons;
pub mod mail;
pub mod matching;
pub mod partners;
pub mod profile;
pub mod visits;

use crate::db::DbError;
use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The caller sent something invalid; the message says what.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The resource does not exist (or the caller may not know it does).
    #[error("{0}")]
    NotFound(String),
    /// Missing or wrong credentials; the message never says which part was wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but this needs another role.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// The request conflicts with what exists (e.g. an email address in use).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached in time.
    #[error("database unavailable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Appends a security event to the audit log, inside the caller's transaction.
pub(crate) fn audit(
    conn: &mut crate::db::DbConn,
    actor: String,
    action: &str,
    address: Option<std::net::IpAddr>,
    subject: Option<String>,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    crate::db::audit::record(
        conn,
        &crate::db::audit::AuditEvent {
            actor,
            action,
            address: address.map(|a| a.to_string()),
            subject,
            details,
        },
    )?;
    Ok(())
}

/// Records a security event in a transaction of its own, for events that
/// change nothing else (a failed login, an issued token).
pub(crate) async fn audit_alone(
    pool: &crate::db::DbPool,
    actor: String,
    action: &'static str,
    address: Option<std::net::IpAddr>,
    subject: Option<String>,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    pool.run(move |conn| conn.write(|conn| audit(conn, actor, action, address, subject, details)))
        .await
}

/// How a user appears as actor or subject in the audit log.
pub(crate) fn user_ref(id: crate::domain::account::UserId) -> String {
    format!("user:{id}")
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) => ServiceError::Unavailable(e),
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::from(DbError::Query(e))
    }
}
