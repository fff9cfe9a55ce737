//! Running many specs: one backup or drill per spec, with the outcome of each as a row of a
//! summary, at most `concurrency` at once. Used by `backup --all`, `drill --all`, `run-due`
//! and the schedule daemon.

mod render;
mod run;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::spec::{self, DrillSpec};
use crate::{Error, Exit, Result};

pub use render::{line, table, verdict};
pub use run::{run_and_notify, run_row, Outcome, Run};

/// What one run did for one spec.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub spec: PathBuf,
    pub drill: String,
    /// `backup`, `drill`, or `spec` when the file did not load.
    pub operation: String,
    /// 0 passed, 1 failed check/target, 2 could not run (or another run holds the lease).
    pub code: Exit,
    pub seconds: f64,
    pub detail: String,
}

impl RunRow {
    /// The row of a spec that did not load.
    pub fn broken_spec(path: &Path, e: &crate::Error) -> RunRow {
        warn!(spec = %path.display(), "Spec does not load; skipped.");
        RunRow {
            spec: path.to_path_buf(),
            drill: String::new(),
            operation: "spec".into(),
            code: Exit::CouldNotRun,
            seconds: 0.0,
            detail: e.render(),
        }
    }
}

/// Loads the spec at `path` as it is (no overrides).
///
/// # Errors
/// The row of a spec that does not load (and a warning in the log).
pub fn load(path: &Path) -> std::result::Result<DrillSpec, RunRow> {
    spec::load(path, &[]).map_err(|e| RunRow::broken_spec(path, &e))
}

/// Which operation a row runs (`--all`, `run-due`, the daemon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Backup,
    Drill,
}

/// Specs (`*.toml`) in `dir`, sorted.
///
/// # Errors
/// When the folder cannot be read.
pub fn specs_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    Ok(out)
}

/// Specs in `dir` as [`specs_in`], or the error naming the folder with `hint` as the fix.
///
/// # Errors
/// When the folder cannot be read.
pub fn read_folder(dir: &Path, hint: &str) -> Result<Vec<PathBuf>> {
    specs_in(dir).map_err(|e| {
        Error::spec(format!(
            "cannot read the spec folder `{}`: {e}",
            dir.display()
        ))
        .hint(hint)
    })
}

/// Runs `op` for every spec in `dir`, at most `concurrency` at once; rows in spec order.
/// After cancellation no new run starts; the running ones stop as single runs do.
///
/// # Errors
/// When the folder cannot be read or nothing ran (no specs in it).
pub async fn run_all(
    dir: &Path,
    op: Operation,
    trigger: &str,
    concurrency: usize,
    cancel: &CancellationToken,
) -> Result<Vec<RunRow>> {
    let paths = read_folder(dir, "with --all, give a folder of drill specs (*.toml)")?;
    let jobs = paths.into_iter().map(|path| {
        let trigger = trigger.to_string();
        let cancel = cancel.clone();
        async move {
            let spec = match load(&path) {
                Ok(s) => s,
                Err(row) => return vec![row],
            };
            vec![run_row(&spec, op, &trigger, &cancel).await]
        }
    });
    let rows = bounded(jobs, concurrency, cancel).await;
    if rows.is_empty() {
        return Err(
            Error::spec(format!("no drill specs (*.toml) in `{}`", dir.display()))
                .hint("with --all, give a folder of drill specs"),
        );
    }
    Ok(rows)
}

/// Runs `jobs` at most `concurrency` at once, in their order; jobs not started before
/// cancellation are left out. Each job gives rows; the rows come back in job order.
pub async fn bounded<F>(
    jobs: impl IntoIterator<Item = F>,
    concurrency: usize,
    cancel: &CancellationToken,
) -> Vec<RunRow>
where
    F: std::future::Future<Output = Vec<RunRow>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut handles = Vec::new();
    for job in jobs {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("semaphore open"),
            () = cancel.cancelled() => break,
        };
        handles.push(tokio::spawn(async move {
            let rows = job.await;
            drop(permit);
            rows
        }));
    }
    let mut rows = Vec::new();
    for h in handles {
        match h.await {
            Ok(r) => rows.extend(r),
            Err(e) => warn!(error = %e, "A run panicked."),
        }
    }
    rows
}

/// The worst exit code of `rows` (0 when empty).
pub fn worst(rows: &[RunRow]) -> Exit {
    Exit::worst(rows.iter().map(|r| r.code))
}
