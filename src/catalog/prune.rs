//! `firedrill prune`: delete backup sets the retention policy no longer keeps. Never the
//! newest set a drill verified, never one a running drill uses, never past Object Lock
//! retention; the manifest goes first, so a half-deleted set is never listed as complete.
//! Sets without a manifest (a killed backup) are swept once older than a grace period.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::info;

use super::retention::{self, Retention};
use super::BackupSet;
use crate::spec::RdsSource;
use crate::storage::{layout, lease, Destination};
use crate::Result;

#[derive(Debug, Serialize)]
pub struct PruneOutcome {
    pub destination: String,
    pub dry_run: bool,
    /// Kept sets with why.
    pub kept: BTreeMap<String, Vec<String>>,
    /// Deleted (or, in a dry run, to be deleted) sets.
    pub deleted: Vec<String>,
    /// Sets that could not be deleted, with the reason (e.g. Object Lock retention).
    pub refused: BTreeMap<String, String>,
    /// Incomplete sets (no manifest) swept.
    pub orphans: Vec<String>,
}

/// Sets a destination protects for every destination: its newest drill-verified set and the
/// set a running drill restores. `prune` of each destination keeps the union, so a replica
/// never deletes what a drill verified or uses elsewhere (RDS snapshots are shared).
///
/// # Errors
/// When the destination cannot be read.
pub async fn protected(dest: &Destination, drill: &str) -> Result<BTreeMap<String, String>> {
    let sets = super::list(dest, drill).await?;
    let mut out = BTreeMap::new();
    if let Some(id) = newest_verified(dest, drill, &sets).await? {
        out.insert(
            id,
            format!("newest verified by a drill (reports in `{}`)", dest.name),
        );
    }
    if let Some(l) = lease::current(dest, drill, "drill").await? {
        if let (Some(id), true) = (l.backup_id, l.expires_at > Utc::now()) {
            out.insert(id, format!("in use by a running drill ({})", l.holder));
        }
    }
    Ok(out)
}

/// The id of the newest set with a passing drill report stored beside it.
async fn newest_verified(
    dest: &Destination,
    drill: &str,
    sets: &[BackupSet],
) -> Result<Option<String>> {
    for set in sets.iter().rev() {
        let prefix = format!("{}drills/", layout::set_prefix(drill, &set.id));
        for obj in dest.store.list(&prefix).await? {
            if let Some(bytes) = dest.store.get_bytes(&obj.key).await? {
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                if v["verdict"] == "passed" {
                    return Ok(Some(set.id.clone()));
                }
            }
        }
    }
    Ok(None)
}

fn id_time(id: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(&id[..16], "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Prunes `drill`'s sets in `dest`. Pass `rds` only for the destination drills read from
/// (whose reports and lease protect what drills use): RDS snapshots are shared by every
/// destination's manifest and are deleted from that one only.
///
/// # Errors
/// When the destination cannot be listed.
pub async fn prune(
    dest: &Destination,
    drill: &str,
    policy: &Retention,
    orphan_grace: Duration,
    rds: Option<&RdsSource>,
    dry_run: bool,
    extra_keep: &BTreeMap<String, String>,
) -> Result<PruneOutcome> {
    let sets = super::list(dest, drill).await?;
    let points: Vec<(String, DateTime<Utc>)> = sets
        .iter()
        .map(|s| (s.id.clone(), s.manifest.snapshot_at))
        .collect();
    let mut kept: BTreeMap<String, Vec<String>> = retention::keep(&points, policy)
        .into_iter()
        .map(|(id, why)| (id, why.into_iter().map(str::to_string).collect()))
        .collect();
    if let Some(id) = newest_verified(dest, drill, &sets).await? {
        kept.entry(id)
            .or_default()
            .push("newest verified by a drill".into());
    }
    for (id, why) in extra_keep {
        kept.entry(id.clone()).or_default().push(why.clone());
    }
    let drill_lease = lease::current(dest, drill, "drill")
        .await?
        .filter(|l| l.expires_at > Utc::now());
    if let Some(l) = &drill_lease {
        match &l.backup_id {
            Some(id) => kept
                .entry(id.clone())
                .or_default()
                .push(format!("in use by a running drill ({})", l.holder)),
            // A drill that has not chosen its backup yet may choose any: keep them all.
            None => {
                for s in &sets {
                    kept.entry(s.id.clone())
                        .or_default()
                        .push(format!("a drill is choosing a backup ({})", l.holder));
                }
            }
        }
    }
    let mut out = PruneOutcome {
        destination: dest.name.clone(),
        dry_run,
        kept: BTreeMap::new(),
        deleted: Vec::new(),
        refused: BTreeMap::new(),
        orphans: Vec::new(),
    };
    for set in &sets {
        if kept.contains_key(&set.id) {
            continue;
        }
        if dry_run {
            out.deleted.push(set.id.clone());
            continue;
        }
        match delete_set(dest, drill, set, rds).await {
            Ok(()) => {
                info!(destination = %dest.name, backup = %set.id, "Pruned.");
                out.deleted.push(set.id.clone());
            }
            Err(e) => {
                out.refused.insert(set.id.clone(), e.message);
            }
        }
    }
    out.kept = kept
        .into_iter()
        .filter(|(id, _)| sets.iter().any(|s| &s.id == id))
        .collect();

    // Orphans: ids with objects but no manifest key at all, older than the grace period. A
    // manifest this firedrill cannot read (newer format, damage) is never swept. Nothing is
    // swept while a backup runs: its data exists before its manifest.
    let backup_running = lease::current(dest, drill, "backup")
        .await?
        .is_some_and(|l| l.expires_at > Utc::now());
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
            out.refused.insert(
                id.clone(),
                "its manifest is unreadable by this firedrill; left alone".into(),
            );
        }
    }
    let mut partials = dest
        .store
        .stale_partials(&format!("{drill}/"), orphan_grace)
        .await?;
    if backup_running {
        orphan_keys.clear();
        partials.clear();
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
    Ok(out)
}

async fn delete_set(
    dest: &Destination,
    drill: &str,
    set: &BackupSet,
    rds: Option<&RdsSource>,
) -> Result<()> {
    dest.store
        .delete(&layout::manifest_key(drill, &set.id))
        .await?;
    for obj in &set.manifest.objects {
        dest.store
            .delete(&layout::object_key(drill, &set.id, &obj.name))
            .await?;
    }
    if let (Some(snaps), Some(src)) = (&set.manifest.rds, rds) {
        for s in &snaps.snapshots {
            crate::source::rds::delete_snapshot(&s.region, src.endpoint.as_deref(), s).await?;
        }
    }
    Ok(())
}
