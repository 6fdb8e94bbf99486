//! `meeloop backup FILE`: a consistent copy of the embedded SQLite
//! database while the service runs, with SQLite's online backup API
//! (docs/operations.md). The copy is one read transaction of the source
//! (in WAL mode writers go on meanwhile), written to a temporary file
//! beside the target, checked with `PRAGMA integrity_check`, and only then
//! renamed into place. PostgreSQL is backed up with `pg_dump`.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

/// What a backup copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub pages: i32,
    pub bytes: u64,
}

/// A connection opened through the C API, closed when dropped.
struct Handle(*mut ffi::sqlite3);

impl Handle {
    fn open(path: &Path, flags: i32) -> Result<Handle, String> {
        let name = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| format!("{}: a path with a NUL byte", path.display()))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `name` is a valid C string for the call; on failure SQLite
        // may still hand out a handle, which `Handle`'s drop closes.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, std::ptr::null()) };
        let handle = Handle(db);
        if rc != ffi::SQLITE_OK {
            return Err(format!("{}: {}", path.display(), handle.error()));
        }
        // Wait for a writer's lock rather than fail at once.
        // SAFETY: `db` is an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db, 5_000) };
        Ok(handle)
    }

    fn error(&self) -> String {
        if self.0.is_null() {
            return "cannot open".into();
        }
        // SAFETY: `self.0` is a connection; the message lives until the next call on it.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0)) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: closing a handle from `sqlite3_open_v2` (or null) once.
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

/// The temporary file a backup is written to before it is renamed.
fn partial(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

/// Copies the database at `source` to `target`, which must not exist yet.
pub fn sqlite(source: &Path, target: &Path) -> Result<Copied, String> {
    if target.exists() {
        return Err(format!(
            "{} exists; a backup never overwrites a file",
            target.display()
        ));
    }
    if !source.exists() {
        return Err(format!("no database at {}", source.display()));
    }
    let temporary = partial(target);
    let _ = std::fs::remove_file(&temporary);
    let result = copy(source, &temporary).and_then(|pages| {
        check(&temporary)?;
        std::fs::rename(&temporary, target).map_err(|e| format!("{}: {e}", target.display()))?;
        let bytes = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
        Ok(Copied { pages, bytes })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

fn copy(source: &Path, target: &Path) -> Result<i32, String> {
    let from = Handle::open(source, ffi::SQLITE_OPEN_READONLY)?;
    let to = Handle::open(target, ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE)?;
    let main = c"main";
    // SAFETY: both handles are open; the backup object is finished below
    // before either is closed.
    let backup = unsafe { ffi::sqlite3_backup_init(to.0, main.as_ptr(), from.0, main.as_ptr()) };
    if backup.is_null() {
        return Err(format!("backup: {}", to.error()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let outcome = loop {
        // All pages in one step: one read transaction, so the copy is the
        // database as it was at one moment (a chunked copy restarts each
        // time a writer commits).
        // SAFETY: `backup` is live until `sqlite3_backup_finish`.
        match unsafe { ffi::sqlite3_backup_step(backup, -1) } {
            ffi::SQLITE_DONE => break Ok(()),
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            rc => break Err(rc),
        }
    };
    // SAFETY: as above; finish releases the backup object.
    let pages = unsafe { ffi::sqlite3_backup_pagecount(backup) };
    let finished = unsafe { ffi::sqlite3_backup_finish(backup) };
    match (outcome, finished) {
        (Ok(()), ffi::SQLITE_OK) => Ok(pages),
        (Err(rc), _) | (Ok(()), rc) => Err(format!("backup failed ({rc}): {}", to.error())),
    }
}

/// `PRAGMA integrity_check` of the copy must say `ok`.
fn check(path: &Path) -> Result<(), String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| format!("integrity check: {e}"))?;
    match rows.first() {
        Some(r) if r.integrity_check == "ok" && rows.len() == 1 => Ok(()),
        _ => Err(format!(
            "the copy fails its integrity check: {}",
            rows.iter()
                .map(|r| r.integrity_check.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}
