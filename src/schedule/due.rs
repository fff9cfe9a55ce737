//! One pass over a folder of specs: run every backup and drill whose schedule is due.
//! `firedrill run-due DIR` is one pass (for plain cron); `firedrill schedule DIR` repeats it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::drill::{self, DrillOptions};
use crate::spec::DrillSpec;
use crate::{backup, catalog, notify, spec, storage};

/// What one pass did for one spec and operation.
#[derive(Debug, Serialize)]
pub struct DueRun {
    pub spec: PathBuf,
    pub drill: String,
    /// `backup`, `drill`, or `spec` when the file did not load.
    pub operation: String,
    /// 0 passed, 1 failed check/target, 2 could not run.
    pub code: u8,
    pub detail: String,
}

fn state_file(spec: &DrillSpec) -> PathBuf {
    spec.drill
        .reports
        .join(&spec.name)
        .join(".last-backup-attempt")
}

/// The start of the last backup attempt: the attempt record or the newest manifest.
async fn last_backup(spec: &DrillSpec) -> Option<DateTime<Utc>> {
    let recorded = std::fs::read_to_string(state_file(spec))
        .ok()
        .and_then(|t| t.trim().parse::<DateTime<Utc>>().ok());
    // An unreachable destination must not make the backup due at every pass: the attempt
    // record still counts.
    let newest = match storage::open_all(&spec.destinations)
        .await
        .ok()
        .and_then(|d| d.into_iter().next())
    {
        Some(d) => catalog::list(&d, &spec.name)
            .await
            .ok()
            .and_then(|sets| sets.iter().map(|s| s.manifest.started_at).max()),
        None => None,
    };
    recorded.max(newest)
}

/// The start of the last drill: the newest report in the report folder.
fn last_drill(spec: &DrillSpec) -> Option<DateTime<Utc>> {
    let dir = spec.drill.reports.join(&spec.name);
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            v["started_at"].as_str()?.parse::<DateTime<Utc>>().ok()
        })
        .max()
}

/// Specs (`*.toml`) in `dir`, sorted.
pub fn specs_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    Ok(out)
}

/// Runs what is due at `now` for every spec in `dir`, one after the other.
pub async fn run_due(
    dir: &Path,
    now: DateTime<Utc>,
    cancel: &CancellationToken,
) -> std::io::Result<Vec<DueRun>> {
    let mut runs = Vec::new();
    for path in specs_in(dir)? {
        if cancel.is_cancelled() {
            break;
        }
        let spec = match spec::load(&path, &[]) {
            Ok(s) => s,
            Err(e) => {
                warn!(spec = %path.display(), "Spec does not load; skipped.");
                runs.push(DueRun {
                    spec: path.clone(),
                    drill: String::new(),
                    operation: "spec".into(),
                    code: 2,
                    detail: e.render(),
                });
                continue;
            }
        };
        if let Some(s) = &spec.backup.schedule {
            if s.is_due(last_backup(&spec).await, now) {
                runs.push(run_backup(&spec, cancel).await);
            }
        }
        if let Some(s) = &spec.drill.schedule {
            if s.is_due(last_drill(&spec), now) {
                runs.push(run_drill(&spec, cancel).await);
            }
        }
    }
    Ok(runs)
}

async fn run_backup(spec: &DrillSpec, cancel: &CancellationToken) -> DueRun {
    let started = Utc::now();
    info!(drill = %spec.name, "Scheduled backup due.");
    let state = state_file(spec);
    if let Some(dir) = state.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&state, started.to_rfc3339());
    let result = backup::run(spec, cancel).await;
    notify::after_backup(spec, "schedule", started, &result).await;
    let (code, detail) = match &result {
        Ok(o) if o.complete() => (0, format!("backup {} stored", o.backup_id)),
        Ok(o) => (
            2,
            format!("backup {} stored, but a replica failed", o.backup_id),
        ),
        Err(e) => (2, e.render()),
    };
    DueRun {
        spec: spec.path.clone(),
        drill: spec.name.clone(),
        operation: "backup".into(),
        code,
        detail,
    }
}

async fn run_drill(spec: &DrillSpec, cancel: &CancellationToken) -> DueRun {
    info!(drill = %spec.name, "Scheduled drill due.");
    let opts = DrillOptions {
        trigger: "schedule".into(),
        ..DrillOptions::default()
    };
    let started = Utc::now();
    let result = drill::run(spec, &opts, cancel).await;
    notify::after_drill(spec, &opts.trigger, started, &result).await;
    let (code, detail) = match result {
        Ok(outcome) => {
            let r = &outcome.report;
            (
                r.verdict.exit_code(),
                format!(
                    "{:?}{}",
                    r.verdict,
                    r.reason
                        .as_deref()
                        .map(|x| format!(": {x}"))
                        .unwrap_or_default()
                ),
            )
        }
        Err(e) => (2, e.render()),
    };
    DueRun {
        spec: spec.path.clone(),
        drill: spec.name.clone(),
        operation: "drill".into(),
        code,
        detail,
    }
}
