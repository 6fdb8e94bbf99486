//! Importing organisations from a CSV file (`meeloop import organisations`).

use tracing::instrument;

use super::ServiceError;
use crate::db::{self, DbConn};
use crate::domain::import::{self, Change, FileFormat, RowError, Stored};

/// Receives progress while rows are written, for a progress bar.
pub trait Progress {
    fn start(&mut self, _total: u64) {}
    fn advance(&mut self, _rows: u64) {}
}

/// No progress reporting.
impl Progress for () {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub format: FileFormat,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows that failed validation, with line numbers and reasons.
    pub invalid: Vec<RowError>,
    /// False when invalid rows stopped the import: then nothing was written.
    pub applied: bool,
    /// With a CBS list: active municipalities in Meeloop whose code the file
    /// no longer has (merged, probably), as (code, name). Kept, not deleted:
    /// `meeloop organisations merge OLD NEW` moves them on.
    pub missing: Vec<(String, String)>,
}

/// Who imports, for the audit log.
#[derive(Debug, Clone)]
pub struct Importer {
    /// `user:ID`, or `cli` for the command line.
    pub actor: String,
    pub address: Option<std::net::IpAddr>,
}

/// Validates every row first; with any invalid row nothing is written unless
/// `skip_invalid`. Valid rows are upserted by code in one write transaction,
/// so a re-import of the same file changes nothing and reports it unchanged.
/// When rows change and `by` says who did it, the `organisations.imported`
/// audit entry is written in that same transaction: both or neither.
#[instrument(skip_all, fields(bytes = bytes.len(), skip_invalid))]
pub fn import_organisations(
    conn: &mut DbConn,
    bytes: &[u8],
    skip_invalid: bool,
    progress: &mut dyn Progress,
    by: Option<&Importer>,
) -> Result<ImportReport, ServiceError> {
    let parsed = import::parse(bytes)?;
    let mut report = ImportReport {
        format: parsed.format,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        invalid: parsed.errors,
        applied: false,
        missing: Vec::new(),
    };
    if !report.invalid.is_empty() && !skip_invalid {
        return Ok(report);
    }
    let rows = parsed.rows;
    conn.write(|conn| {
        db::organisations::lock_for_import(conn)?;
        let codes: Vec<&str> = rows.iter().map(|r| r.fields.code.as_str()).collect();
        let stored = db::organisations::stored_by_code(conn, &codes)?;
        if report.format == FileFormat::Cbs {
            report.missing = db::merge::municipalities_not_in(conn, &codes)?;
        }
        let mut new: Vec<(&str, Stored)> = Vec::new();
        let mut changed: Vec<(&str, Stored)> = Vec::new();
        for row in &rows {
            let code = row.fields.code.as_str();
            let (change, desired) = import::plan(stored.get(code), row);
            match change {
                Change::Insert => new.push((code, desired)),
                Change::Update => changed.push((code, desired)),
                Change::Unchanged => report.unchanged += 1,
            }
        }
        (report.inserted, report.updated) = (new.len(), changed.len());
        progress.start((new.len() + changed.len()) as u64);
        // The lock above makes the plan exact: no other import can add or
        // change these codes before we commit.
        db::organisations::insert(conn, &new, &mut |n| progress.advance(n))?;
        db::organisations::update(conn, &changed, &mut |n| progress.advance(n))?;
        if let Some(by) = by.filter(|_| report.inserted + report.updated > 0) {
            super::audit(
                conn,
                by.actor.clone(),
                "organisations.imported",
                by.address,
                None,
                serde_json::json!({
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "skipped": report.invalid.len(),
                }),
            )?;
        }
        Ok::<_, ServiceError>(())
    })?;
    report.applied = true;
    tracing::info!(
        inserted = report.inserted,
        updated = report.updated,
        unchanged = report.unchanged,
        skipped = report.invalid.len(),
        "organisations imported"
    );
    Ok(report)
}

/// An admin imports a file from the web page: the same rules as the CLI,
/// on the blocking pool, and an entry in the audit log when rows changed.
pub async fn admin_import(
    ctx: &crate::service::context::Context,
    admin: crate::domain::account::User,
    address: std::net::IpAddr,
    bytes: Vec<u8>,
    skip_invalid: bool,
) -> Result<ImportReport, ServiceError> {
    super::admin::require_admin(&admin)?;
    let by = Importer {
        actor: super::user_ref(admin.id),
        address: Some(address),
    };
    ctx.pool
        .run(move |conn| import_organisations(conn, &bytes, skip_invalid, &mut (), Some(&by)))
        .await
}
