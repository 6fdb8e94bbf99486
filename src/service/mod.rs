//! Use cases: one function per user action, each in one transaction.
//! Handlers and the CLI call these; they never touch `db` themselves.

pub mod accounts;
pub mod admin;
pub mod clock;
pub mod context;
pub mod demo;
pub mod digests;
pub mod directory;
pub mod events;
pub mod follows;
pub mod import;
pub mod index;
pub mod insight;
pub mod lessons;
pub mod mail;
pub mod matching;
pub mod merger;
pub mod notify;
pub mod operations;
pub mod parties;
pub mod partners;
pub mod privacy;
pub mod profile;
pub mod published;
pub mod reader;
pub mod schedule;
pub mod sign_in;
pub mod sso;
pub mod two_step;
pub mod visits;
pub mod webhook_queue;
pub mod webhooks;

use crate::db::DbError;
use crate::domain::organisation::Language;
use crate::domain::refusal::{Explain, Kind, Refusal};
use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field the caller sent is malformed; the message names it (the
    /// parsers that make these speak the language they were given).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The use case says no, for a reason each edge renders in its
    /// caller's language (see `domain::refusal`).
    #[error("{0}")]
    Refused(Refusal),
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// The database could not be reached in time.
    #[error("database unavailable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Admins only: everyone else is refused with `admins_only`.
pub(crate) fn require_admin(user: &crate::domain::account::User) -> Result<(), ServiceError> {
    if crate::domain::account::is_admin(user) {
        Ok(())
    } else {
        Err(crate::domain::refusal::AccountRefusal::AdminsOnly.into())
    }
}

/// For partner routes: the token must carry `scope`. Otherwise 403, naming
/// the scope needed and the ones the token has (OAuth2's insufficient_scope).
pub fn require_scope(
    partner: &crate::domain::partner::Partner,
    scope: crate::domain::partner::Scope,
) -> Result<(), ServiceError> {
    if partner.may(scope) {
        Ok(())
    } else {
        Err(crate::domain::refusal::PartnerRefusal::MissingScope {
            needed: scope.to_string(),
            has: partner.scopes.to_string(),
        }
        .into())
    }
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

impl ServiceError {
    /// The refusal's stable code (`session_ended`, …); `None` otherwise.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ServiceError::Refused(r) => Some(r.code()),
            _ => None,
        }
    }

    /// What kind of refusal this is; `None` for failures on our side.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            ServiceError::Invalid(_) => Some(Kind::Invalid),
            ServiceError::Refused(r) => Some(r.kind()),
            _ => None,
        }
    }

    /// The refusal or invalid field in `language`; the English text of
    /// anything else (which edges replace by their own words).
    pub fn message(&self, language: Language) -> String {
        match self {
            ServiceError::Refused(r) => r.message(language),
            // A page shows the message by its own field, without the API's name.
            ServiceError::Invalid(invalid) => invalid.message.clone(),
            other => other.to_string(),
        }
    }
}

macro_rules! refused_from {
    ($($ty:ident),+) => {
        $(impl From<crate::domain::refusal::$ty> for ServiceError {
            fn from(r: crate::domain::refusal::$ty) -> Self {
                ServiceError::Refused(r.into())
            }
        })+
    };
}

refused_from!(
    Refusal,
    DirectoryRefusal,
    VisitRefusal,
    LinkRefusal,
    LessonRefusal,
    AccountRefusal,
    PartnerRefusal,
    OutboxRefusal,
    WebhookRefusal
);

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
