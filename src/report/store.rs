//! Writes reports to `<reports>/<drill>/<timestamp>.{json,md,html}`, mirrors the JSON (and its
//! signature) to `<drill>/reports/` in every destination, and puts a JSON copy beside the
//! backup set (`<drill>/<backup-id>/drills/<timestamp>.json`) in the destination read from.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;

use super::{evidence, render_html, render_json, render_markdown, DrillReport};
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
    // Millisecond stamps keep names in time order (the chain relies on it); a name taken
    // already (same millisecond) moves to the next free millisecond, which keeps the order.
    let mut at = report.started_at;
    let stamp = loop {
        let s = at.format("%Y%m%dT%H%M%S%3fZ").to_string();
        if !reports_dir
            .join(&report.drill)
            .join(format!("{s}.json"))
            .exists()
        {
            break s;
        }
        at += chrono::Duration::milliseconds(1);
    };
    let dir = reports_dir.join(&report.drill);
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::storage(format!(
            "cannot create report folder `{}`: {e}",
            dir.display()
        ))
        .hint("fix drill.reports")
    })?;
    // Chain: each report names the SHA-256 of the one before it.
    let mut report = report.clone();
    report.previous_sha256 = evidence::newest_report(&dir)
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
    super::mirror::push(mirrors, &report.drill, &dir, &names).await;
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

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, data)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::storage(format!("cannot write report `{}`: {e}", path.display())))
}
