//! The report store in the destinations: every drill's JSON report (with its signature and
//! the folder's public key) is mirrored to `<drill>/reports/` in every destination, so the
//! evidence survives the loss of the host that ran the drills. `report --from NAME` and
//! `report verify --from NAME` read it back. Prune never touches `reports/` (it is not a
//! backup set), and Object Lock retention applies as to any object of the destination.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bytes::Bytes;
use tracing::warn;

use super::{file_name, reports};
use crate::report::evidence::{sha256_hex, Finding, PUBLIC_KEY_FILE};
use crate::storage::Destination;
use crate::{Error, Result};

/// The prefix of `drill`'s mirrored reports.
pub fn prefix(drill: &str) -> String {
    format!("{drill}/reports/")
}

/// The keys in `dest` under `drill`'s prefix that hold a file of its own (not in a
/// folder below), with their names.
async fn listed(dest: &Destination, drill: &str) -> Result<Vec<(String, String)>> {
    let prefix = prefix(drill);
    Ok(dest
        .store
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|o| {
            let name = o.key[prefix.len()..].to_string();
            (!name.contains('/')).then_some((o.key, name))
        })
        .collect())
}

/// What the mirrors show about one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirrors {
    /// Not compared (no spec: the destinations are not known).
    NotCompared,
    /// Compared, and no destination holds a copy.
    NoCopy,
    /// A copy in a destination has other bytes.
    Differ,
    /// Every copy held has the same bytes.
    Match,
}

/// Mirrors the report files `names` of `folder` (a drill's report folder) into every
/// destination. A destination that cannot be written is a warning: the local report stands.
pub async fn push(dests: &[Destination], drill: &str, folder: &Path, names: &[String]) {
    let mut files: Vec<(String, Bytes)> = Vec::new();
    for name in names.iter().map(String::as_str).chain([PUBLIC_KEY_FILE]) {
        if let Ok(b) = std::fs::read(folder.join(name)) {
            files.push((name.to_string(), Bytes::from(b)));
        }
    }
    for d in dests {
        for (name, body) in &files {
            let key = format!("{}{name}", prefix(drill));
            if let Err(e) = d.store.put_bytes(&key, body.clone()).await {
                warn!(destination = %d.name, key, error = %e.message, "Report not mirrored to the destination.");
                break;
            }
        }
    }
}

/// Downloads `drill`'s mirrored reports from `dest` into `into/<drill>/`.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the destination cannot be listed or read, or
/// [`crate::ErrorKind::Spec`] when it holds no mirrored report of the drill.
pub async fn pull(dest: &Destination, drill: &str, into: &Path) -> Result<usize> {
    let dir = into.join(drill);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::storage(format!("cannot create `{}`: {e}", dir.display())))?;
    let mut n = 0;
    for (key, name) in listed(dest, drill).await? {
        // Flat names only: nothing from the destination can write outside the folder.
        if name.is_empty() || name.starts_with('.') {
            continue;
        }
        let Some(body) = dest.store.get_bytes(&key).await? else {
            continue;
        };
        std::fs::write(dir.join(&name), &body).map_err(|e| {
            Error::storage(format!("cannot write `{}`: {e}", dir.join(&name).display()))
        })?;
        n += usize::from(super::is_report_name(&name));
    }
    if n == 0 {
        return Err(Error::spec(format!(
            "destination `{}` holds no mirrored drill report of `{drill}` (under `{}`)",
            dest.name,
            prefix(drill)
        ))
        .hint("reports are mirrored by drills from this version on; read the local drill.reports folder instead"));
    }
    Ok(n)
}

/// What comparing a report folder with the mirrors found.
#[derive(Debug, Default)]
pub struct MirrorCheck {
    /// Reports a destination holds that the folder lacks (removed from the folder), and
    /// reports whose copy in a destination has other bytes (one of the two was edited).
    pub findings: Vec<Finding>,
    /// Reports of the folder a destination lacks (its write failed, or the report predates
    /// mirroring): not evidence of tampering, but said.
    pub unmirrored: Vec<Finding>,
    /// File names of the folder's reports a destination holds a copy of.
    pub compared: BTreeSet<String>,
    /// File names of the folder's reports a copy of which has other bytes.
    pub differing: BTreeSet<String>,
}

impl MirrorCheck {
    /// What the mirrors show about the report named `name`.
    pub fn of(&self, name: &str) -> Mirrors {
        if self.differing.contains(name) {
            Mirrors::Differ
        } else if self.compared.contains(name) {
            Mirrors::Match
        } else {
            Mirrors::NoCopy
        }
    }
}

/// Compares the JSON reports of `folder` (a drill's report folder, described to people as
/// `what`) with the copies mirrored in each destination, by content (SHA-256): an edited
/// report differs from its copies, and a report removed locally (even the newest, which
/// the chain cannot show) is still listed in the destinations.
///
/// # Errors
/// When a destination cannot be listed or read.
pub async fn compare(
    dests: &[Destination],
    drill: &str,
    folder: &Path,
    what: &str,
) -> Result<MirrorCheck> {
    let mut local: BTreeMap<String, String> = BTreeMap::new();
    for path in reports(folder) {
        if let Ok(bytes) = std::fs::read(&path) {
            local.insert(file_name(&path), sha256_hex(&bytes));
        }
    }
    let mut out = MirrorCheck::default();
    for d in dests {
        let where_ = format!("destination `{}` ({})", d.name, d.store.describe());
        let there: BTreeMap<String, String> = listed(d, drill)
            .await?
            .into_iter()
            .filter(|(_, name)| super::is_report_name(name))
            .map(|(key, name)| (name, key))
            .collect();
        for (name, key) in &there {
            let Some(sha) = local.get(name) else {
                out.findings.push(Finding {
                    report: name.clone(),
                    problem: format!(
                        "{where_} holds this report but {what} does not: it was removed"
                    ),
                });
                continue;
            };
            // Listed a moment ago; gone now is as good as absent.
            let Some(body) = d.store.get_bytes(key).await? else {
                continue;
            };
            out.compared.insert(name.clone());
            let copy = sha256_hex(&body);
            if &copy != sha {
                out.differing.insert(name.clone());
                out.findings.push(Finding {
                    report: name.clone(),
                    problem: format!(
                        "differs from its copy in {where_}: SHA-256 {sha} in {what}, {copy} in the destination; one of them was edited"
                    ),
                });
            }
        }
        for name in local.keys().filter(|n| !there.contains_key(*n)) {
            out.unmirrored.push(Finding {
                report: name.clone(),
                problem: format!("not mirrored in destination `{}`", d.name),
            });
        }
    }
    Ok(out)
}
