//! The `.eml` files the files transport leaves behind are personal data
//! too (recipient in the name, the whole message inside): which of them
//! are past their retention period (docs/privacy.md).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

/// The `.eml` files in `folder` last written before `before` (UTC),
/// oldest first; none when the folder does not exist.
pub fn written_before(folder: &Path, before: NaiveDateTime) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut old = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let written = DateTime::<Utc>::from(entry.metadata()?.modified()?).naive_utc();
        if written < before {
            old.push((written, path));
        }
    }
    old.sort();
    Ok(old.into_iter().map(|(_, path)| path).collect())
}

/// Removes `files`; returns how many went (one already gone is not an error:
/// another instance may have purged it).
pub fn remove(files: &[PathBuf]) -> std::io::Result<usize> {
    let mut removed = 0;
    for file in files {
        match std::fs::remove_file(file) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
