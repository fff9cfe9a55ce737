//! Incomplete sets (a killed backup: objects but no manifest), temporary files of writes
//! killed mid-way and unfinished multipart uploads, swept once older than the grace period.
//! Nothing is swept while a backup runs: its data exists before its manifest. A manifest this
//! firedrill cannot read (newer format, damage) is never swept.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::PruneOutcome;
use crate::catalog::{layout, BackupSet};
use crate::storage::{lease, Destination};
use crate::Result;

/// Sweeps `drill`'s incomplete sets and stale partial writes in `dest`, recording them in
/// `out` (`sets`: the complete ones).
///
/// # Errors
/// When the destination cannot be listed.
pub(super) async fn sweep(
    dest: &Destination,
    drill: &str,
    orphan_grace: Duration,
    dry_run: bool,
    sets: &[BackupSet],
    out: &mut PruneOutcome,
) -> Result<()> {
    let backup_running = lease::current(dest, drill, "backup")
        .await?
        .is_some_and(|l| l.expires_at > Utc::now());
    let mut orphan_keys = incomplete(dest, drill, sets, out).await?;
    let mut partials = dest
        .store
        .stale_partials(&format!("{drill}/"), orphan_grace)
        .await?;
    if backup_running {
        orphan_keys.clear();
        partials.clear();
    }
    if !backup_running {
        aborted_uploads(dest, drill, orphan_grace, dry_run, out).await?;
    }
    // Temporary files of writes killed mid-way (never visible as objects).
    for path in partials {
        if !dry_run {
            if let Err(e) = dest.store.remove_partial(&path).await {
                out.refused.insert(path.clone(), e.message);
                continue;
            }
        }
        out.orphans.push(path);
    }
    let cutoff = Utc::now() - chrono::Duration::from_std(orphan_grace).unwrap_or_default();
    for (id, keys) in orphan_keys {
        if id_time(&id).is_none_or(|t| t > cutoff) {
            continue;
        }
        if !dry_run {
            for k in &keys {
                if let Err(e) = dest.store.delete(k).await {
                    out.refused.insert(id.clone(), e.message);
                }
            }
        }
        out.orphans.push(id);
    }
    Ok(())
}

/// Aborts `drill`'s multipart uploads in `dest` older than `grace` (S3), recording them in
/// `out`; one whose abort failed is refused with the reason.
///
/// # Errors
/// When the uploads cannot be listed.
async fn aborted_uploads(
    dest: &Destination,
    drill: &str,
    grace: Duration,
    dry_run: bool,
    out: &mut PruneOutcome,
) -> Result<()> {
    let stale = dest
        .store
        .abort_stale_uploads(&format!("{drill}/"), grace, dry_run)
        .await?;
    for u in stale {
        let started = u
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match u.error {
            Some(why) => {
                out.refused
                    .insert(format!("unfinished upload of {}", u.key), why);
            }
            None => out
                .aborted_uploads
                .push(format!("{} (started {started})", u.key)),
        }
    }
    Ok(())
}

/// Ids with objects but no manifest key at all, with their keys. Ids whose manifest exists
/// but could not be read are refused in `out`.
async fn incomplete(
    dest: &Destination,
    drill: &str,
    sets: &[BackupSet],
    out: &mut PruneOutcome,
) -> Result<BTreeMap<String, Vec<String>>> {
    let complete: BTreeSet<&str> = sets.iter().map(|s| s.id.as_str()).collect();
    let mut orphan_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut has_manifest: BTreeSet<String> = BTreeSet::new();
    for obj in dest.store.list(&format!("{drill}/")).await? {
        let rest = &obj.key[drill.len() + 1..];
        let Some((id, name)) = rest.split_once('/') else {
            continue;
        };
        if name == layout::MANIFEST {
            has_manifest.insert(id.to_string());
        }
        if layout::is_backup_id(id) && !complete.contains(id) && !name.starts_with("drills/") {
            orphan_keys
                .entry(id.to_string())
                .or_default()
                .push(obj.key.clone());
        }
    }
    for id in &has_manifest {
        if orphan_keys.remove(id).is_some() {
            out.expected.insert(id.clone());
            out.refused.insert(
                id.clone(),
                "its manifest is unreadable by this firedrill; left alone".into(),
            );
        }
    }
    Ok(orphan_keys)
}

fn id_time(id: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(&id[..16], "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}
