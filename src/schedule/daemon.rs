//! `firedrill schedule DIR`: every minute (plus jitter) starts what is due for every spec,
//! without waiting for runs in progress, at most `concurrency` runs at once and never two of
//! one spec. Serves `/metrics` and `/healthz` while it runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::beats::Beats;
use super::health::Health;
use super::{due, http};
use crate::fleet::{self, RunRow};
use crate::notify::{metrics, registry};
use crate::spec::{self, DrillSpec};
use crate::Result;

/// How long in-flight runs get after SIGTERM to stop, clean up and write their reports.
pub const STOP_GRACE: Duration = Duration::from_secs(120);

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
        registry::seed(metrics::samples(&spec.name, &series));
    }
}

/// The wait from `now` to the next pass: the next full minute plus up to 20 s of jitter.
fn to_next_pass(now: DateTime<Utc>) -> Duration {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    let to_next_minute = 60 - now.timestamp() % 60;
    Duration::from_secs(to_next_minute as u64)
        + Duration::from_millis(u64::from(b[0]) * 20000 / 255)
}

type OnRow = dyn Fn(&RunRow) + Send + Sync;

/// The scheduling loop's state between passes.
struct Daemon {
    dir: PathBuf,
    cancel: CancellationToken,
    health: Arc<Mutex<Health>>,
    permits: Arc<Semaphore>,
    on_row: Arc<OnRow>,
    tasks: JoinSet<()>,
    /// The heartbeat writers of the specs that have one.
    beats: Beats,
}

impl Daemon {
    /// Records the start in `/metrics` and seeds it from the reports.
    fn start(opts: &Options, cancel: &CancellationToken, on_row: Arc<OnRow>) -> Daemon {
        let health = Arc::new(Mutex::new(Health {
            started_at: Some(Utc::now()),
            ..Health::default()
        }));
        registry::record_global(
            "firedrill_scheduler_started_timestamp_seconds",
            metrics::ts(Utc::now()),
        );
        seed_metrics(&opts.dir);
        Daemon {
            dir: opts.dir.clone(),
            cancel: cancel.clone(),
            health,
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            on_row,
            tasks: JoinSet::new(),
            beats: Beats::default(),
        }
    }

    fn is_running(&self, path: &Path) -> bool {
        self.health.lock().unwrap().running.contains(path)
    }

    /// One pass over the folder: starts what is due of every spec not already running.
    async fn pass(&mut self) {
        let mut loaded = Vec::new();
        for path in fleet::specs_in(&self.dir).unwrap_or_default() {
            if self.cancel.is_cancelled() {
                break;
            }
            let spec = match fleet::load(&path) {
                Ok(s) => s,
                Err(row) => {
                    // Said once per pass; the rest of the folder goes on.
                    (self.on_row)(&row);
                    continue;
                }
            };
            if !self.is_running(&path) {
                let (backup, drill) = due::due(&spec, Utc::now()).await;
                if backup || drill {
                    self.spawn(path.clone(), spec.clone(), backup, drill);
                }
            }
            loaded.push((path, spec));
        }
        if !self.cancel.is_cancelled() {
            self.beats.sync(&loaded, &self.cancel);
        }
        while self.tasks.try_join_next().is_some() {}
        let now = Utc::now();
        self.health.lock().unwrap().last_pass = Some(now);
        registry::record_global(
            "firedrill_scheduler_last_pass_timestamp_seconds",
            metrics::ts(now),
        );
    }

    /// Starts the due runs of one spec once a slot is free (none after cancellation).
    fn spawn(&mut self, path: PathBuf, spec: DrillSpec, backup: bool, drill: bool) {
        self.health.lock().unwrap().running.insert(path.clone());
        let (permits, health, cancel, on_row) = (
            self.permits.clone(),
            self.health.clone(),
            self.cancel.clone(),
            self.on_row.clone(),
        );
        self.tasks.spawn(async move {
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

    /// Sleeps until the next pass; false when cancelled first.
    async fn wait_for_next_pass(&self) -> bool {
        tokio::select! {
            () = tokio::time::sleep(to_next_pass(Utc::now())) => true,
            () = self.cancel.cancelled() => false,
        }
    }

    /// Waits up to [`STOP_GRACE`] for the runs in progress.
    async fn stop(mut self) {
        std::mem::take(&mut self.beats).stop().await;
        if self.tasks.is_empty() {
            return;
        }
        info!(
            runs = self.tasks.len(),
            "Stopping: waiting for runs in progress to clean up."
        );
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(STOP_GRACE, all_done).await.is_err() {
            warn!("Runs did not stop within {STOP_GRACE:?}; leaving them to `firedrill cleanup`.");
        }
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
    fleet::read_folder(&opts.dir, super::FOLDER_HINT)?;
    let mut daemon = Daemon::start(&opts, cancel, Arc::new(on_row));
    let server = match opts.listen {
        Some(addr) => Some(http::serve(addr, daemon.health.clone(), cancel.clone()).await?),
        None => None,
    };
    loop {
        daemon.pass().await;
        if !daemon.wait_for_next_pass().await {
            break;
        }
    }
    daemon.stop().await;
    if let Some(s) = server {
        s.abort();
    }
    Ok(())
}
