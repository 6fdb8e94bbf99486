//! Municipal mergers (gemeentelijke herindeling; docs/import.md): an
//! organisation goes into another with everything it has: expertise,
//! visit history, lessons (and so reputation), accounts and the links in
//! emails already sent. The old one is retired and points at the new one.
//! One transaction, both organisations locked (bookings wait for it);
//! audited.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;

use super::context::Context;
use super::{audit, user_ref, ServiceError};
use crate::db::merge::{self as repo, Moved};
use crate::db::DbConn;
use crate::domain::account::User;
use crate::domain::organisation::{Organisation, OrganisationId};
use crate::domain::refusal::{DirectoryRefusal, MergeProblem};
use crate::service::admin::require_admin;

/// A merger done.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Merged {
    /// The code and name of the organisation that went.
    pub from: String,
    /// The code and name of the one it went into.
    pub into: String,
    pub into_id: i64,
    pub moved: Moved,
}

/// Which organisation goes: by id (the API) or by code (the admin page).
#[derive(Debug, Clone)]
pub enum Old {
    Id(OrganisationId),
    Code(String),
}

/// An admin merges `old` into the organisation with the code `into`.
pub async fn merge_for_admin(
    ctx: &Context,
    admin: User,
    address: IpAddr,
    old: Old,
    into: String,
) -> Result<Merged, ServiceError> {
    require_admin(&admin)?;
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let old = match old {
                    Old::Id(id) => by_id(conn, id)?,
                    Old::Code(code) => by_code(conn, &code)?,
                };
                let new = by_code(conn, &into)?;
                merge(conn, user_ref(admin.id), Some(address), old, new)
            })
        })
        .await
}

/// The operator, on the server (`meeloop organisations merge OLD NEW`).
pub async fn merge_by_operator(
    ctx: &Context,
    old: String,
    new: String,
) -> Result<Merged, ServiceError> {
    ctx.pool
        .run(move |conn| {
            conn.write(|conn| {
                let (old, new) = (by_code(conn, &old)?, by_code(conn, &new)?);
                merge(conn, "cli".into(), None, old, new)
            })
        })
        .await
}

fn by_id(conn: &mut DbConn, id: OrganisationId) -> Result<Organisation, ServiceError> {
    crate::db::organisations::find(conn, id)?
        .ok_or_else(|| DirectoryRefusal::UnknownOrganisation { id: id.0 }.into())
}

fn by_code(conn: &mut DbConn, code: &str) -> Result<Organisation, ServiceError> {
    let code = code.trim().to_uppercase();
    let id = crate::db::organisations::id_by_code(conn, &code)?
        .ok_or(DirectoryRefusal::UnknownOrganisationCode { code })?;
    by_id(conn, id)
}

fn merge(
    conn: &mut DbConn,
    actor: String,
    address: Option<IpAddr>,
    old: Organisation,
    new: Organisation,
) -> Result<Merged, ServiceError> {
    let refuse = |why| Err(DirectoryRefusal::CannotMerge { why }.into());
    if old.id == new.id {
        return refuse(MergeProblem::Same);
    }
    // Both locked, in id order (no deadlock with a merger the other way).
    for id in [old.id.min(new.id), old.id.max(new.id)] {
        crate::db::organisations::lock(conn, id)?;
    }
    if repo::merged_into(conn, old.id.0)?.is_some() {
        return refuse(MergeProblem::AlreadyMerged);
    }
    if !new.active {
        return refuse(MergeProblem::TargetInactive);
    }
    if let Some(day) = repo::same_day(conn, old.id.0, new.id.0)? {
        return refuse(MergeProblem::SameDay(day));
    }
    let moved = repo::merge(conn, old.id.0, new.id.0)?;
    audit(
        conn,
        actor,
        "organisation.merged",
        address,
        Some(format!("organisation:{}", old.id.0)),
        json!({ "from": old.code, "into": new.code, "intoId": new.id.0, "moved": moved }),
    )?;
    Ok(Merged {
        from: format!("{} ({})", old.name, old.code),
        into: format!("{} ({})", new.name, new.code),
        into_id: new.id.0,
        moved,
    })
}
