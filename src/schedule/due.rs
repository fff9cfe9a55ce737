//! One pass over a folder of specs: run every backup and drill whose schedule is due.
//! `firedrill run-due DIR` is one pass (for plain cron); `firedrill schedule DIR` repeats it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::fleet::{self, Operation, RunRow};
use crate::spec::{DrillSpec, PgBackRestType, Schedule, SourceMethod};
use crate::{catalog, storage};

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
pub(crate) fn last_drill(spec: &DrillSpec) -> Option<DateTime<Utc>> {
    report_starts(spec, false)
}

/// The start of the last drill that passed.
pub(crate) fn last_passed_drill(spec: &DrillSpec) -> Option<DateTime<Utc>> {
    report_starts(spec, true)
}

fn report_starts(spec: &DrillSpec, passed_only: bool) -> Option<DateTime<Utc>> {
    let dir = spec.drill.reports.join(&spec.name);
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            if passed_only && v["verdict"] != "passed" {
                return None;
            }
            v["started_at"].as_str()?.parse::<DateTime<Utc>>().ok()
        })
        .max()
}

/// What is due for `spec` at `now`: (backup, drill).
pub async fn due(spec: &DrillSpec, now: DateTime<Utc>) -> (bool, bool) {
    let last = last_backup(spec).await;
    let backup = match &spec.backup.schedule {
        Some(s) => s.is_due(last, now),
        None => type_due(&spec.backup.schedules_by_type, last, now).is_some(),
    };
    let drill = match &spec.drill.schedule {
        Some(s) => s.is_due(last_drill(spec), now),
        None => false,
    };
    (backup, drill)
}

/// Runs what is due of one spec: the backup first, so a drill due at the same time restores
/// the new backup. Records the backup attempt first, so an unreachable destination does not
/// make the backup due at every pass.
pub async fn run_spec(
    spec: &DrillSpec,
    backup: bool,
    drill: bool,
    cancel: &CancellationToken,
) -> Vec<RunRow> {
    let mut rows = Vec::new();
    if backup {
        let typed = type_due(
            &spec.backup.schedules_by_type,
            last_backup(spec).await,
            Utc::now(),
        );
        let spec = &with_backup_type(spec, typed);
        info!(drill = %spec.name, backup_type = typed.map(PgBackRestType::as_str), "Scheduled backup due.");
        let state = state_file(spec);
        if let Some(dir) = state.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&state, Utc::now().to_rfc3339());
        rows.push(fleet::run_row(spec, Operation::Backup, "schedule", cancel).await);
    }
    if drill && !cancel.is_cancelled() {
        info!(drill = %spec.name, "Scheduled drill due.");
        rows.push(fleet::run_row(spec, Operation::Drill, "schedule", cancel).await);
    }
    rows
}

/// Of a schedule per backup type: the largest type with a slot since the last backup
/// (`full` over `diff` over `incr` when several are due at once).
fn type_due(
    schedules: &[(PgBackRestType, Schedule)],
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<PgBackRestType> {
    let rank = |t: PgBackRestType| match t {
        PgBackRestType::Full => 0,
        PgBackRestType::Diff => 1,
        PgBackRestType::Incr => 2,
    };
    schedules
        .iter()
        .filter(|(_, s)| s.is_due(last, now))
        .map(|(t, _)| *t)
        .min_by_key(|t| rank(*t))
}

/// `spec` taking a backup of type `typed` (when a schedule per type chose one).
fn with_backup_type(spec: &DrillSpec, typed: Option<PgBackRestType>) -> DrillSpec {
    let mut spec = spec.clone();
    if let (Some(t), SourceMethod::PgBackRest(src)) = (typed, &mut spec.source.method) {
        src.backup_type = t;
    }
    spec
}

/// One pass: runs what is due at `now` for every spec in `dir`, at most `concurrency` specs
/// at once; rows in spec order.
///
/// # Errors
/// When the folder cannot be read.
pub async fn run_due(
    dir: &Path,
    now: DateTime<Utc>,
    concurrency: usize,
    cancel: &CancellationToken,
) -> crate::Result<Vec<RunRow>> {
    let mut jobs = Vec::new();
    for path in fleet::read_folder(dir, super::FOLDER_HINT)? {
        let spec = match fleet::load(&path) {
            Ok(s) => s,
            Err(row) => {
                jobs.push(Box::pin(async move { vec![row] }) as Job);
                continue;
            }
        };
        let (backup, drill) = due(&spec, now).await;
        if backup || drill {
            let cancel = cancel.clone();
            jobs.push(Box::pin(async move {
                run_spec(&spec, backup, drill, &cancel).await
            }));
        }
    }
    Ok(fleet::bounded(jobs, concurrency, cancel).await)
}

type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<RunRow>> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utc;

    #[test]
    fn the_largest_backup_type_due_runs() {
        let weekly_full = Schedule::parse("0 1 * * 0", "UTC").unwrap();
        let daily_diff = Schedule::parse("0 1 * * *", "UTC").unwrap();
        let hourly_incr = Schedule::parse("0 * * * *", "UTC").unwrap();
        let all = [
            (PgBackRestType::Incr, hourly_incr),
            (PgBackRestType::Diff, daily_diff),
            (PgBackRestType::Full, weekly_full),
        ];
        // Sunday 2026-11-29 01:00: all three due, full runs.
        let sunday = utc("2026-11-29T01:05:00Z");
        let before = Some(utc("2026-11-28T23:30:00Z"));
        assert_eq!(type_due(&all, before, sunday), Some(PgBackRestType::Full));
        // Monday 01:05 after Sunday's full: the daily diff.
        let monday = utc("2026-11-30T01:05:00Z");
        assert_eq!(
            type_due(&all, Some(utc("2026-11-30T00:02:00Z")), monday),
            Some(PgBackRestType::Diff)
        );
        // Monday 02:05 after the diff: the hourly incr.
        assert_eq!(
            type_due(
                &all,
                Some(utc("2026-11-30T01:05:00Z")),
                utc("2026-11-30T02:05:00Z")
            ),
            Some(PgBackRestType::Incr)
        );
        // Nothing since the last backup: nothing due.
        assert_eq!(
            type_due(
                &all,
                Some(utc("2026-11-30T02:05:00Z")),
                utc("2026-11-30T02:30:00Z")
            ),
            None
        );
    }
}
