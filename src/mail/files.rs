//! The `.eml` files the files transport leaves behind are personal data
//! too (recipient in the name, the whole message inside): which of them
//! are past their retention period (docs/privacy.md).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

/// The `.eml` files in `folder` last written before `before` (UTC),
/// oldest first; none when the folder does not exist.
pub fn written_before(folder: &Path, before: NaiveDateTime) -> std::io::Result<Vec<PathBuf>> {
    let mut old = Vec::new();
    for path in emails(folder)? {
        let written = DateTime::<Utc>::from(std::fs::metadata(&path)?.modified()?).naive_utc();
        if written < before {
            old.push((written, path));
        }
    }
    old.sort();
    Ok(old.into_iter().map(|(_, path)| path).collect())
}

/// The `.eml` files in `folder`; none when it does not exist.
fn emails(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("eml") {
            files.push(path);
        }
    }
    Ok(files)
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

/// Removes the `.eml` files whose name or content mentions any of
/// `needles` (lower case); returns how many went. For erasure.
pub fn remove_mentioning(folder: &Path, needles: &[String]) -> std::io::Result<usize> {
    let mut doomed = Vec::new();
    for path in emails(folder)? {
        // Headers may be encoded (RFC 2047) and bodies quoted-printable;
        // the raw bytes are searched as text, and the name decoded below.
        let raw = String::from_utf8_lossy(&std::fs::read(&path)?).to_lowercase();
        let unfolded = raw.replace("=\r\n", "").replace("=\n", "");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_lowercase();
        if needles.iter().any(|n| {
            name.contains(n.as_str()) || raw.contains(n.as_str()) || unfolded.contains(n.as_str())
        }) {
            doomed.push(path);
        }
    }
    remove(&doomed)
}
