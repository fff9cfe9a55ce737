//! The report store. [`store`] writes reports to `<reports>/<drill>/<timestamp>.{json,md,html}`,
//! mirrors the JSON (and its signature) to `<drill>/reports/` in every destination (see
//! [`mirror`]), and puts a JSON copy beside the backup set
//! (`<drill>/<backup-id>/drills/<timestamp>.json`) in the destination read from. The other
//! functions read a report folder back; [`source`] finds the folder a command reads.

pub mod mirror;
pub mod source;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;

use super::evidence;
use super::{render_html, render_json, render_markdown, DrillReport};
use crate::catalog::layout;
use crate::storage::Destination;
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct StoredReport {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub html: PathBuf,
    /// Key of the copy in the destination, when there was a backup to put it beside.
    pub beside_backup: Option<String>,
}

/// Stores `report`.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the local report folder cannot be written.
pub async fn store(
    report: &DrillReport,
    reports_dir: &Path,
    dest: Option<&Destination>,
    mirrors: &[Destination],
    signing_key: Option<&ed25519_dalek::SigningKey>,
) -> Result<StoredReport> {
    let dir = reports_dir.join(&report.drill);
    let stamp = free_stamp(&dir, report.started_at);
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::storage(format!(
            "cannot create report folder `{}`: {e}",
            dir.display()
        ))
        .hint("fix drill.reports")
    })?;
    // Chain: each report names the SHA-256 of the one before it.
    let mut report = report.clone();
    report.previous_sha256 = newest_report(&dir)
        .and_then(|p| std::fs::read(p).ok())
        .map(|b| evidence::sha256_hex(&b));
    let report = &report;
    let json = render_json(report);
    let json_path = dir.join(format!("{stamp}.json"));
    let md_path = json_path.with_extension("md");
    let html_path = json_path.with_extension("html");
    if let Some(key) = signing_key {
        evidence::sign(&json_path, json.as_bytes(), key)?;
    }
    write_atomic(&json_path, json.as_bytes())?;
    write_atomic(&md_path, render_markdown(report).as_bytes())?;
    write_atomic(&html_path, render_html(report).as_bytes())?;
    let mut names = vec![format!("{stamp}.json")];
    if signing_key.is_some() {
        names.push(format!("{stamp}.json.sig"));
    }
    mirror::push(mirrors, &report.drill, &dir, &names).await;
    let mut beside = None;
    if let (Some(dest), Some(b)) = (dest, &report.backup) {
        let key = format!(
            "{}drills/{stamp}.json",
            layout::set_prefix(&report.drill, &b.id)
        );
        match dest.store.put_bytes(&key, Bytes::from(json)).await {
            Ok(()) => beside = Some(key),
            Err(e) => {
                tracing::warn!(error = %e.message, "Could not store the report beside the backup.")
            }
        }
    }
    Ok(StoredReport {
        json: json_path,
        markdown: md_path,
        html: html_path,
        beside_backup: beside,
    })
}

/// The file stem of a report started at `at`. Millisecond stamps keep names in time order
/// (the chain relies on it); a name taken already (same millisecond) moves to the next free
/// millisecond, which keeps the order.
fn free_stamp(dir: &Path, mut at: chrono::DateTime<chrono::Utc>) -> String {
    loop {
        let s = at.format("%Y%m%dT%H%M%S%3fZ").to_string();
        if !dir.join(format!("{s}.json")).exists() {
            return s;
        }
        at += chrono::Duration::milliseconds(1);
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, data)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::storage(format!("cannot write report `{}`: {e}", path.display())))
}

/// True for the name of a drill report's JSON: its start stamp, `20261201T175943191Z.json`
/// (or `20261201T175943Z.json`, as reports were named before millisecond stamps). Other JSON
/// in a report folder, such as a compliance summary written there, is not a report.
pub fn is_report_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    let b = stem.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (b.len() == 16 || b.len() == 19)
        && digits(0..8)
        && b[8] == b'T'
        && digits(9..b.len() - 1)
        && b[b.len() - 1] == b'Z'
}

/// The report files of a drill folder, oldest first (names sort by time).
pub fn reports(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| is_report_name(&e.file_name().to_string_lossy()))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The newest report (by file name) of a drill's folder, if any.
pub fn newest_report(dir: &Path) -> Option<PathBuf> {
    reports(dir).pop()
}

/// The drill folders of a report folder: `root` itself when it holds reports, otherwise
/// every folder under it, by name.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when `root` cannot be read.
pub fn drill_folders(root: &Path) -> Result<Vec<PathBuf>> {
    if !reports(root).is_empty() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| Error::storage(format!("cannot read `{}`: {e}", root.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    Ok(v)
}

/// Reads and parses one report file; the error says why in words.
pub fn read_report(path: &Path) -> std::result::Result<DrillReport, String> {
    std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice::<DrillReport>(&b).map_err(|e| e.to_string()))
}

/// The file name of `path`, for people.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The error for a report folder that is not there.
pub(crate) fn no_folder(dir: &Path) -> Error {
    Error::spec(format!("report folder `{}` does not exist", dir.display()))
        .hint("give the drill.reports folder of a spec, or the spec itself")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stamped_json_files_are_reports() {
        assert!(is_report_name("20261201T175943191Z.json"));
        assert!(is_report_name("20261201T175943Z.json"));
        for other in [
            "summary.json",
            "20261201T175943191Z.md",
            "20261201T175943191Z.json.sig",
            "20261201T175943191Z.partial",
            "2026120xT175943191Z.json",
            "20261201T1759431Z.json",
            "signing-key.json",
        ] {
            assert!(!is_report_name(other), "{other}");
        }
    }
}
