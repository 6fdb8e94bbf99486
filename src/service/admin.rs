//! What only admins may do.

use super::ServiceError;
use crate::db::audit::AuditEntry;
use crate::db::{self, DbPool};
use crate::domain::account::{is_admin, User};

fn require_admin(user: &User) -> Result<(), ServiceError> {
    if is_admin(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "this needs an admin account".into(),
        ))
    }
}

/// A page of the audit log, newest first. Returns the entries and, when more
/// follow, the cursor (`before`) for the next page.
pub async fn audit_log(
    pool: &DbPool,
    user: User,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<i64>), ServiceError> {
    require_admin(&user)?;
    pool.run(move |conn| {
        let mut entries = db::audit::page(conn, before, limit + 1)?;
        let next = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok((entries, next))
    })
    .await
}
