//! The audit log as its readers see it.

use chrono::{DateTime, Utc};

/// A recorded event.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub address: Option<String>,
    pub subject: Option<String>,
    pub details: serde_json::Value,
}
