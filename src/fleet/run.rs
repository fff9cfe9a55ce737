//! One backup or one drill of a spec as a summary row, with metrics and notifications.

use std::time::Instant;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::RunRow;
use crate::drill::{self, DrillOptions};
use crate::spec::DrillSpec;
use crate::{backup, notify};

fn row(spec: &DrillSpec, operation: &str, code: u8, t0: Instant, detail: String) -> RunRow {
    RunRow {
        spec: spec.path.clone(),
        drill: spec.name.clone(),
        operation: operation.into(),
        code,
        seconds: t0.elapsed().as_secs_f64(),
        detail,
    }
}

/// Backs `spec` up; the row says what was stored.
pub async fn run_backup(spec: &DrillSpec, trigger: &str, cancel: &CancellationToken) -> RunRow {
    info!(drill = %spec.name, trigger, "Backup starts.");
    let (started, t0) = (Utc::now(), Instant::now());
    let result = backup::run(spec, cancel).await;
    notify::after_backup(spec, trigger, started, &result).await;
    let (code, detail) = match &result {
        Ok(o) if o.complete() => (0, format!("backup {} stored", o.backup_id)),
        Ok(o) => (
            2,
            format!("backup {} stored, but a replica failed", o.backup_id),
        ),
        Err(e) => (2, e.render()),
    };
    row(spec, "backup", code, t0, detail)
}

/// Drills `spec` with its latest backup; the row carries the verdict.
pub async fn run_drill(spec: &DrillSpec, trigger: &str, cancel: &CancellationToken) -> RunRow {
    info!(drill = %spec.name, trigger, "Drill starts.");
    let opts = DrillOptions {
        trigger: trigger.into(),
        ..DrillOptions::default()
    };
    let (started, t0) = (Utc::now(), Instant::now());
    let result = drill::run(spec, &opts, cancel).await;
    notify::after_drill(spec, trigger, started, &result).await;
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
    row(spec, "drill", code, t0, detail)
}
