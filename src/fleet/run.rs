//! One backup or one drill of a spec, with metrics and notifications after it: what the
//! `backup` and `drill` commands run for one spec, and each row of many runs.

use std::time::Instant;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{Operation, RunRow};
use crate::backup::{self, BackupOutcome};
use crate::drill::{self, DrillOptions, DrillOutcome};
use crate::notify::{self, Finished};
use crate::spec::DrillSpec;
use crate::{Exit, Result};

/// What one run of a spec does.
#[derive(Debug, Clone)]
pub enum Run {
    Backup,
    Drill(DrillOptions),
}

/// What a run gave; metrics and webhooks have been told.
#[derive(Debug)]
pub enum Outcome {
    Backup(BackupOutcome),
    Drill(Box<DrillOutcome>),
}

impl Outcome {
    /// 0 stored and copied or passed, 1 a failed drill, 2 a missing copy or a drill that
    /// could not finish.
    pub fn exit_code(&self) -> Exit {
        match self {
            Outcome::Backup(o) if o.complete() => Exit::Pass,
            Outcome::Backup(_) => Exit::CouldNotRun,
            Outcome::Drill(o) => o.report.verdict.exit_code(),
        }
    }

    /// One line for a summary row.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Backup(o) if o.complete() => format!("backup {} stored", o.backup_id),
            Outcome::Backup(o) => format!("backup {} stored, but a replica failed", o.backup_id),
            Outcome::Drill(o) => {
                let r = &o.report;
                let reason = r.reason.as_deref().map(|x| format!(": {x}"));
                format!("{:?}{}", r.verdict, reason.unwrap_or_default())
            }
        }
    }
}

/// Runs `run` of `spec` as `trigger` (`manual`, `schedule`, `fleet`), then tells metrics and
/// webhooks what it gave, failure included (a run refused because another holds the lease
/// tells nothing).
///
/// # Errors
/// When the run could not run or finish; the error has been told already.
pub async fn run_and_notify(
    spec: &DrillSpec,
    run: Run,
    trigger: &str,
    cancel: &CancellationToken,
) -> Result<Outcome> {
    let started = Utc::now();
    match run {
        Run::Backup => {
            let result = backup::run(spec, cancel).await;
            notify::after(spec, trigger, started, Finished::Backup(&result)).await;
            result.map(Outcome::Backup)
        }
        Run::Drill(opts) => {
            let opts = DrillOptions {
                trigger: trigger.into(),
                ..opts
            };
            let result = drill::run(spec, &opts, cancel).await;
            notify::after(spec, trigger, started, Finished::Drill(&result)).await;
            result.map(|o| Outcome::Drill(Box::new(o)))
        }
    }
}

/// Runs `op` of `spec` with the spec's own settings (a drill of the latest backup); the row
/// says what was stored or carries the verdict.
pub async fn run_row(
    spec: &DrillSpec,
    op: Operation,
    trigger: &str,
    cancel: &CancellationToken,
) -> RunRow {
    let (operation, run) = match op {
        Operation::Backup => {
            info!(drill = %spec.name, trigger, "Backup starts.");
            ("backup", Run::Backup)
        }
        Operation::Drill => {
            info!(drill = %spec.name, trigger, "Drill starts.");
            ("drill", Run::Drill(DrillOptions::default()))
        }
    };
    let t0 = Instant::now();
    let (code, detail) = match run_and_notify(spec, run, trigger, cancel).await {
        Ok(outcome) => (outcome.exit_code(), outcome.detail()),
        Err(e) => (Exit::CouldNotRun, e.render()),
    };
    RunRow {
        spec: spec.path.clone(),
        drill: spec.name.clone(),
        operation: operation.into(),
        code,
        seconds: t0.elapsed().as_secs_f64(),
        detail,
    }
}
