//! `firedrill drill`: choose a recovery point -> the method restores it into scratch -> run
//! checks -> measure RTO/RPO -> report -> clean up (always, also on error and on
//! SIGINT/SIGTERM, unless `--keep`).
//!
//! [`plan`] is what `--dry-run` prints; `execute` the steps that touch things; `report`
//! turns what they gathered into the drill report, whatever the verdict.

mod execute;
mod plan;
mod random;
mod report;
mod usage;

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::catalog::Pick;
use crate::report::{DrillReport, StoredReport};
use crate::scratch::{CleanupOutcome, ScratchTarget};
use crate::spec::DrillSpec;
use crate::storage::{self, lease, Destination};
use crate::{Error, ErrorKind, Result};

pub use plan::{plan, DrillPlan};
pub use random::RandomPoint;

/// How to run a drill.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub pick: Pick,
    /// Destination to read from instead of `drill.from`.
    pub from: Option<String>,
    pub keep: bool,
    /// `manual`, `demo`, ...
    pub trigger: String,
    /// A recovery point chosen at random (by default the spec's `drill.random-within`).
    pub random: RandomPoint,
}

impl Default for DrillOptions {
    fn default() -> Self {
        Self {
            pick: Pick::Latest,
            from: None,
            keep: false,
            trigger: "manual".into(),
            random: RandomPoint::FromSpec,
        }
    }
}

/// The spec and options a drill runs with, its random recovery point chosen.
async fn with_random_point(
    spec: &DrillSpec,
    opts: &DrillOptions,
) -> Result<(DrillSpec, DrillOptions)> {
    let (mut spec, mut opts) = (spec.clone(), opts.clone());
    random::choose(&mut spec, &mut opts).await?;
    Ok((spec, opts))
}

/// The result of a drill that got far enough to write a report.
#[derive(Debug, Serialize)]
pub struct DrillOutcome {
    pub report: DrillReport,
    pub stored: Option<StoredReport>,
    /// Connection URL of the kept scratch target (`--keep`).
    pub kept_url: Option<String>,
}

/// The spec's destinations, opened once per drill: the lease, the set read and the report
/// mirrors all go through these.
pub(super) struct Destinations(Vec<Destination>);

impl Destinations {
    /// Opens every destination of the spec. Nothing is contacted yet.
    async fn open(spec: &DrillSpec) -> Result<Self> {
        Ok(Self(storage::open_all(&spec.destinations).await?))
    }

    /// The first destination: backups are written there first.
    fn primary(&self) -> &Destination {
        self.0.first().expect("validated")
    }

    /// The destination a drill reads from: `--from`, else `drill.from`.
    fn read_from(&self, spec: &DrillSpec, opts: &DrillOptions) -> Result<Destination> {
        let name = opts.from.as_deref().unwrap_or(&spec.drill.from);
        if let Some(repo) = crate::method::pgbackrest::repository(spec, name, self.primary()) {
            return Ok(repo);
        }
        self.0
            .iter()
            .find(|d| d.name == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = self.0.iter().map(|d| d.name.as_str()).collect();
                Error::spec(format!("no destination named `{name}`"))
                    .hint(format!("use one of: {}", names.join(", ")))
            })
    }
}

/// Runs a drill. A report is written for every drill that starts, whatever its verdict.
///
/// # Errors
/// Only when not even the report could be written; otherwise the verdict says what happened.
pub async fn run(
    spec: &DrillSpec,
    opts: &DrillOptions,
    cancel: &CancellationToken,
) -> Result<DrillOutcome> {
    let (spec, opts) = &with_random_point(spec, opts).await?;
    // A signing key that cannot be read stops the drill before it starts, not after.
    let signing_key = match &spec.drill.signing_key_file {
        Some(path) => Some(crate::report::evidence::load_key(path)?),
        None => None,
    };
    let dests = Destinations::open(spec).await?;
    let mut st = execute::State::new(acquire_lease(spec, opts, &dests).await?);
    let mut meter = usage::Meter::start(spec);
    let started_at = Utc::now();
    info!(drill = %spec.name, "Drill started.");
    let limit = spec.drill_timeout();
    let result = tokio::select! {
        r = execute::execute(spec, opts, &dests, cancel, &mut st) => r,
        // execute() notices the token itself; this is the backstop for a phase stuck elsewhere.
        () = async { cancel.cancelled().await; tokio::time::sleep(ABORT_BACKSTOP).await } => Err(Error::aborted()),
        () = tokio::time::sleep(limit) => Err(timed_out(limit, &st)),
    };
    meter.read_cpu(&st);
    let (cleanup, kept_url) = match st.scratch.as_mut() {
        None => (None, None),
        Some(s) if cancel.is_cancelled() => {
            // Stopping on a signal: the process has seconds left, not minutes.
            let settle = settle_scratch(s.as_mut(), false);
            tokio::time::timeout(CLEANUP_ON_SIGNAL, settle)
                .await
                .unwrap_or_else(|_| (Some(cleanup_unfinished()), None))
        }
        Some(s) => settle_scratch(s.as_mut(), opts.keep && result.is_ok()).await,
    };
    if kept_url.is_some() {
        crate::scratch::kept::record(spec);
    }
    let cost = meter.finish(spec, &st);
    let report = report::build(spec, opts, started_at, &st, result, cleanup, cost);
    info!(drill = %spec.name, verdict = ?report.verdict, "Drill finished.");
    let stored = crate::report::store(
        &report,
        &spec.drill.reports,
        st.dest.as_ref(),
        &dests.0,
        signing_key.as_ref(),
    )
    .await;
    if let Some(l) = st.lease.take() {
        l.release().await;
    }
    Ok(DrillOutcome {
        report,
        stored: Some(stored?),
        kept_url,
    })
}

/// How long a phase may take to notice a signal before the drill stops waiting for it.
const ABORT_BACKSTOP: Duration = Duration::from_secs(15);

/// How long removing the scratch target may take once a signal asked the drill to stop.
const CLEANUP_ON_SIGNAL: Duration = Duration::from_secs(10);

/// A cleanup cut short by the signal's deadline.
fn cleanup_unfinished() -> CleanupOutcome {
    CleanupOutcome {
        removed: false,
        kept: false,
        detail: format!(
            "removing the scratch target did not finish within {} s of the signal: run `firedrill cleanup SPEC`",
            CLEANUP_ON_SIGNAL.as_secs()
        ),
    }
}

/// The error of a drill stopped by `drill.timeout`, naming the phase it was in.
fn timed_out(limit: Duration, st: &execute::State) -> Error {
    let phase = st.clock.current().unwrap_or_else(|| "locate".into());
    Error::timeout(format!(
        "the drill ran past its timeout of {} in phase `{phase}`",
        humantime::format_duration(limit)
    ))
    .hint("raise drill.timeout (default: four times targets.rto, at least 1h), or a check's timeout, or find what hangs")
}

/// One drill of a spec at a time: a refused drill writes no report (it did not run). An
/// unreachable destination is not refused here: the drill then fails at `locate` and its
/// report says why. The lease lives in the primary (one place for every `--from`), or, when
/// the primary is unreachable (a DR drill after losing it), in the destination read from.
async fn acquire_lease(
    spec: &DrillSpec,
    opts: &DrillOptions,
    dests: &Destinations,
) -> Result<Option<lease::Lease>> {
    match lease::acquire(dests.primary(), &spec.name, "drill", None).await {
        Ok(l) => return Ok(Some(l)),
        Err(e) if e.kind == ErrorKind::Busy => return Err(e),
        Err(_) => {}
    }
    let from = dests.read_from(spec, opts)?;
    match lease::acquire(&from, &spec.name, "drill", None).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.kind == ErrorKind::Busy => Err(e),
        Err(_) => Ok(None),
    }
}

/// Removes the scratch target, or leaves it up (`--keep` after a drill that ran) and returns
/// how to connect to it.
async fn settle_scratch(
    s: &mut dyn ScratchTarget,
    keep: bool,
) -> (Option<CleanupOutcome>, Option<String>) {
    if keep {
        let url = s.keep();
        let outcome = s.cleanup().await.unwrap_or_else(|e| CleanupOutcome {
            removed: false,
            kept: true,
            detail: e.message,
        });
        return (Some(outcome), Some(url));
    }
    let outcome = match s.cleanup().await {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e.message, "Scratch cleanup failed.");
            CleanupOutcome {
                removed: false,
                kept: false,
                detail: e.render(),
            }
        }
    };
    (Some(outcome), None)
}
