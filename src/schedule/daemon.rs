//! `firedrill schedule DIR`: every minute (plus jitter) starts what is due for every spec,
//! without waiting for runs in progress, at most `concurrency` runs at once and never two of
//! one spec. Serves `/metrics` and `/healthz` while it runs.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::due;
use crate::fleet::{self, RunRow};
use crate::notify::{metrics, registry};
use crate::{spec, Error, Result};

/// How long in-flight runs get after SIGTERM to stop, clean up and write their reports.
pub const STOP_GRACE: Duration = Duration::from_secs(120);

/// State shared with the HTTP endpoints.
#[derive(Debug, Default)]
pub struct Health {
    pub started_at: Option<DateTime<Utc>>,
    /// End of the last pass over the folder.
    pub last_pass: Option<DateTime<Utc>>,
    /// Spec files with a run in progress or waiting for a slot.
    pub running: HashSet<PathBuf>,
}

pub struct Options {
    pub dir: PathBuf,
    pub concurrency: usize,
    pub listen: Option<SocketAddr>,
}

/// Seeds the drill series from each spec's reports (and its textfile), so `/metrics` tells
/// the last success from before the daemon started.
fn seed_metrics(dir: &Path) {
    for path in fleet::specs_in(dir).unwrap_or_default() {
        let Ok(spec) = spec::load(&path, &[]) else {
            continue;
        };
        if let Some(file) = &spec.metrics_textfile {
            registry::seed(metrics::read(file));
        }
        let mut series = metrics::Series::new();
        if let Some(t) = due::last_drill(&spec) {
            series.insert(
                "firedrill_drill_last_attempt_timestamp_seconds".into(),
                metrics::ts(t),
            );
        }
        if let Some(t) = due::last_passed_drill(&spec) {
            series.insert(
                "firedrill_drill_last_success_timestamp_seconds".into(),
                metrics::ts(t),
            );
        }
        let mut seeded = std::collections::BTreeMap::new();
        seeded.extend(metrics::samples(&spec.name, &series));
        registry::seed(seeded);
    }
}

/// Runs until `cancel`; then waits up to [`STOP_GRACE`] for runs in progress.
///
/// # Errors
/// When the folder cannot be read at start or the listen address cannot be bound.
pub async fn run(
    opts: Options,
    cancel: &CancellationToken,
    on_row: impl Fn(&RunRow) + Send + Sync + 'static,
) -> Result<()> {
    fleet::specs_in(&opts.dir).map_err(|e| {
        Error::spec(format!(
            "cannot read the spec folder `{}`: {e}",
            opts.dir.display()
        ))
        .hint("point it at a folder of drill specs")
    })?;
    let health = Arc::new(Mutex::new(Health {
        started_at: Some(Utc::now()),
        ..Health::default()
    }));
    registry::record_global(
        "firedrill_scheduler_started_timestamp_seconds",
        metrics::ts(Utc::now()),
    );
    seed_metrics(&opts.dir);
    let server = match opts.listen {
        Some(addr) => Some(super::http::serve(addr, health.clone(), cancel.clone()).await?),
        None => None,
    };
    let permits = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let on_row = Arc::new(on_row);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        for path in fleet::specs_in(&opts.dir).unwrap_or_default() {
            if cancel.is_cancelled() {
                break;
            }
            if health.lock().unwrap().running.contains(&path) {
                continue;
            }
            let spec = match spec::load(&path, &[]) {
                Ok(s) => s,
                Err(e) => {
                    // Said once per pass; the rest of the folder goes on.
                    on_row(&RunRow::broken_spec(&path, &e));
                    continue;
                }
            };
            let (backup, drill) = due::due(&spec, Utc::now()).await;
            if !(backup || drill) {
                continue;
            }
            health.lock().unwrap().running.insert(path.clone());
            let (permits, health, cancel, on_row) = (
                permits.clone(),
                health.clone(),
                cancel.clone(),
                on_row.clone(),
            );
            tasks.spawn(async move {
                let permit = tokio::select! {
                    p = permits.acquire_owned() => p.ok(),
                    () = cancel.cancelled() => None,
                };
                if permit.is_some() {
                    for row in due::run_spec(&spec, backup, drill, &cancel).await {
                        on_row(&row);
                    }
                }
                health.lock().unwrap().running.remove(&path);
            });
        }
        while tasks.try_join_next().is_some() {}
        let now = Utc::now();
        health.lock().unwrap().last_pass = Some(now);
        registry::record_global(
            "firedrill_scheduler_last_pass_timestamp_seconds",
            metrics::ts(now),
        );
        let mut b = [0u8; 1];
        let _ = getrandom::fill(&mut b);
        let to_next_minute = 60 - now.timestamp() % 60;
        let wait = Duration::from_secs(to_next_minute as u64)
            + Duration::from_millis(u64::from(b[0]) * 20000 / 255);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => break,
        }
    }
    if !tasks.is_empty() {
        info!(
            runs = tasks.len(),
            "Stopping: waiting for runs in progress to clean up."
        );
        if tokio::time::timeout(STOP_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            warn!("Runs did not stop within {STOP_GRACE:?}; leaving them to `firedrill cleanup`.");
        }
    }
    if let Some(s) = server {
        s.abort();
    }
    Ok(())
}
