//! `firedrill prune`: delete backup sets the retention policy no longer keeps. Never the
//! newest set a drill verified, never one a running drill uses, never past Object Lock
//! retention; the manifest goes first, so a half-deleted set is never listed as complete.
//! Sets without a manifest (a killed backup) and its unfinished multipart uploads are swept
//! once older than a grace period.

mod orphans;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::info;

use super::layout;
use super::retention::{self, Retention};
use super::BackupSet;
use crate::spec::DrillSpec;
use crate::storage::{self, lease, Destination};
use crate::{Error, ErrorKind, Result};

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
    /// Of the refused, those refused as expected, not a problem: held by retention (Object
    /// Lock), or a manifest this firedrill cannot read, left alone.
    #[serde(skip)]
    pub expected: BTreeSet<String>,
    /// Incomplete sets (no manifest) swept.
    pub orphans: Vec<String>,
    /// Unfinished multipart uploads of killed backups aborted (in a dry run, to be aborted):
    /// `<key> (started <time>)`. One that could not be aborted is in `refused`.
    pub aborted_uploads: Vec<String>,
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

/// What a backup method keeps outside the destinations for a set (RDS snapshots), handed
/// over to it when `prune` deletes the set.
#[async_trait::async_trait]
pub trait Holdings: Send + Sync {
    /// Deletes what `set` holds outside the destinations. Nothing by default.
    ///
    /// # Errors
    /// When something could not be deleted; the set's manifest is then already gone.
    async fn delete_outside(&self, _set: &BackupSet) -> Result<()> {
        Ok(())
    }

    /// Why `prune` must not run for this method (its retention is another tool's); `None`
    /// when it may.
    fn refuses_prune(&self) -> Option<Error> {
        None
    }
}

/// `prune` of every destination of a spec.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PruneRun {
    pub destinations: Vec<PruneOutcome>,
}

impl PruneRun {
    /// True when a set could not be deleted for another reason than an expected one (Object
    /// Lock retention, an unreadable manifest left alone).
    pub fn has_problems(&self) -> bool {
        self.destinations
            .iter()
            .any(|o| o.refused.keys().any(|id| !o.expected.contains(id)))
    }
}

/// Prunes `spec`'s sets in every destination by `[backup.retention]`. What any destination
/// protects (verified sets, sets in use) is kept in all of them. What sets hold outside the
/// destinations (RDS snapshots, shared by every destination's manifest) is handed to
/// `holdings` (the spec's method) in the pass over the destination drills read from only.
///
/// # Errors
/// [`ErrorKind::Spec`] without `[backup.retention]`; a destination that cannot be listed.
pub async fn run(spec: &DrillSpec, holdings: &dyn Holdings, dry_run: bool) -> Result<PruneRun> {
    if let Some(refused) = holdings.refuses_prune() {
        return Err(refused);
    }
    let policy = spec.backup.retention.clone().ok_or_else(|| {
        Error::spec(format!(
            "`{}` has no [backup.retention]",
            spec.path.display()
        ))
        .hint("add [backup.retention] with keep-last, daily, weekly and/or monthly")
    })?;
    let dests = storage::open_all(&spec.destinations).await?;
    let mut keep_everywhere = BTreeMap::new();
    for d in &dests {
        keep_everywhere.extend(protected(d, &spec.name).await?);
    }
    let mut destinations = Vec::new();
    for d in dests {
        let outside = (d.name == spec.drill.from).then_some(holdings);
        destinations.push(
            prune(
                &d,
                &spec.name,
                &policy,
                spec.backup.orphan_grace,
                outside,
                dry_run,
                &keep_everywhere,
            )
            .await?,
        );
    }
    Ok(PruneRun { destinations })
}

/// Prunes `drill`'s sets in `dest`. Pass `outside` only for the destination drills read from
/// (whose reports and lease protect what drills use): what sets hold outside the
/// destinations is shared by every destination's manifest and is deleted in that pass only.
///
/// # Errors
/// When the destination cannot be listed.
pub async fn prune(
    dest: &Destination,
    drill: &str,
    policy: &Retention,
    orphan_grace: Duration,
    outside: Option<&dyn Holdings>,
    dry_run: bool,
    extra_keep: &BTreeMap<String, String>,
) -> Result<PruneOutcome> {
    let sets = super::list(dest, drill).await?;
    let kept = kept(dest, drill, policy, &sets, extra_keep).await?;
    let mut out = PruneOutcome {
        destination: dest.name.clone(),
        dry_run,
        kept: BTreeMap::new(),
        deleted: Vec::new(),
        refused: BTreeMap::new(),
        expected: BTreeSet::new(),
        orphans: Vec::new(),
        aborted_uploads: Vec::new(),
    };
    for set in sets.iter().filter(|s| !kept.contains_key(&s.id)) {
        if dry_run {
            out.deleted.push(set.id.clone());
            continue;
        }
        match delete_set(dest, drill, set, outside).await {
            Ok(()) => {
                info!(destination = %dest.name, backup = %set.id, "Pruned.");
                out.deleted.push(set.id.clone());
            }
            Err(e) => {
                if e.kind == ErrorKind::Retained {
                    out.expected.insert(set.id.clone());
                }
                out.refused.insert(set.id.clone(), e.message);
            }
        }
    }
    out.kept = kept
        .into_iter()
        .filter(|(id, _)| sets.iter().any(|s| &s.id == id))
        .collect();
    orphans::sweep(dest, drill, orphan_grace, dry_run, &sets, &mut out).await?;
    Ok(out)
}

/// The sets kept, with why: the retention policy, the newest verified set, what other
/// destinations protect, and what a running drill uses (all of them while it is still
/// choosing).
async fn kept(
    dest: &Destination,
    drill: &str,
    policy: &Retention,
    sets: &[BackupSet],
    extra_keep: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let points: Vec<(String, DateTime<Utc>)> = sets
        .iter()
        .map(|s| (s.id.clone(), s.manifest.snapshot_at))
        .collect();
    let mut kept: BTreeMap<String, Vec<String>> = retention::keep(&points, policy)
        .into_iter()
        .map(|(id, why)| (id, why.into_iter().map(str::to_string).collect()))
        .collect();
    if let Some(id) = newest_verified(dest, drill, sets).await? {
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
                for s in sets {
                    kept.entry(s.id.clone())
                        .or_default()
                        .push(format!("a drill is choosing a backup ({})", l.holder));
                }
            }
        }
    }
    Ok(kept)
}

/// The manifest goes first, so a half-deleted set is never listed as complete.
async fn delete_set(
    dest: &Destination,
    drill: &str,
    set: &BackupSet,
    outside: Option<&dyn Holdings>,
) -> Result<()> {
    dest.store
        .delete(&layout::manifest_key(drill, &set.id))
        .await?;
    for obj in &set.manifest.objects {
        dest.store
            .delete(&layout::object_key(drill, &set.id, &obj.name))
            .await?;
    }
    if let Some(holdings) = outside {
        holdings.delete_outside(set).await?;
    }
    Ok(())
}
