//! `firedrill drill`: choose a recovery point -> fetch from a destination -> decrypt ->
//! restore into scratch -> run checks -> measure RTO/RPO -> report -> clean up (always, also on
//! error and on SIGINT/SIGTERM, unless `--keep`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::catalog::{self, BackupSet, Pick};
use crate::measure::{worst_gap, Measured, PhaseClock};
use crate::pg::PgTools;
use crate::pipeline::keys;
use crate::progress::Unit;
use crate::report::{
    self, BackupRef, DrillReport, ObjectRef, PhaseTime, Rpo, Rto, SourceRef, StoredReport, Trigger,
    Verdict,
};
use crate::restore;
use crate::scratch::{self, ScratchTarget};
use crate::spec::{DrillSpec, ScratchSpec};
use crate::storage::{self, lease, Destination};
use crate::verify;
use crate::{Error, ErrorKind, Result};

/// How to run a drill.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub pick: Pick,
    /// Destination to read from instead of `drill.from`.
    pub from: Option<String>,
    pub keep: bool,
    /// `manual`, `demo`, ...
    pub trigger: String,
}

impl Default for DrillOptions {
    fn default() -> Self {
        Self {
            pick: Pick::Latest,
            from: None,
            keep: false,
            trigger: "manual".into(),
        }
    }
}

/// What a drill would do: printed by `--dry-run`, touches nothing.
#[derive(Debug, Serialize)]
pub struct DrillPlan {
    pub drill: String,
    pub from: String,
    pub location: String,
    pub backup_id: String,
    pub recovery_point: DateTime<Utc>,
    pub backup_bytes: u64,
    pub scratch: String,
    pub jobs: usize,
    pub checks: Vec<String>,
    pub rto_target: Option<String>,
    pub rpo_target: Option<String>,
}

impl std::fmt::Display for DrillPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Drill `{}` would:", self.drill)?;
        writeln!(
            f,
            "  read backup {} (recovery point {}, {} bytes)",
            self.backup_id,
            self.recovery_point.to_rfc3339(),
            self.backup_bytes
        )?;
        writeln!(f, "  from destination `{}` ({})", self.from, self.location)?;
        writeln!(f, "  restore into {} with {} jobs", self.scratch, self.jobs)?;
        writeln!(
            f,
            "  run {} checks: {}",
            self.checks.len(),
            self.checks.join(", ")
        )?;
        writeln!(
            f,
            "  against targets RTO {} and RPO {}",
            self.rto_target.as_deref().unwrap_or("(none)"),
            self.rpo_target.as_deref().unwrap_or("(none)")
        )
    }
}

/// The result of a drill that got far enough to write a report.
#[derive(Debug, Serialize)]
pub struct DrillOutcome {
    pub report: DrillReport,
    pub stored: Option<StoredReport>,
    /// Connection URL of the kept scratch target (`--keep`).
    pub kept_url: Option<String>,
}

async fn resolve_from(spec: &DrillSpec, opts: &DrillOptions) -> Result<Destination> {
    let name = opts.from.as_deref().unwrap_or(&spec.drill.from);
    let d = spec.destination(name).ok_or_else(|| {
        let names: Vec<&str> = spec.destinations.iter().map(|d| d.name.as_str()).collect();
        Error::spec(format!("no destination named `{name}`"))
            .hint(format!("use one of: {}", names.join(", ")))
    })?;
    storage::open(d).await
}

fn scratch_label(spec: &DrillSpec) -> String {
    match &spec.drill.scratch {
        ScratchSpec::Ephemeral => format!(
            "an ephemeral cluster under {}",
            spec.drill.work_dir.display()
        ),
        ScratchSpec::Server { prefix, .. } => {
            format!("a `{prefix}*` database on the scratch server")
        }
        ScratchSpec::Rds(cfg) => format!(
            "an RDS instance ({}) in `{}` restored {}",
            cfg.instance_class,
            cfg.region,
            if cfg.point_in_time {
                "to the latest restorable time"
            } else {
                "from the snapshot copy"
            }
        ),
    }
}

/// Builds the plan without touching anything but the destination's listing.
///
/// # Errors
/// When the destination cannot be listed or holds no matching backup.
pub async fn plan(spec: &DrillSpec, opts: &DrillOptions) -> Result<DrillPlan> {
    let dest = resolve_from(spec, opts).await?;
    let sets = catalog::list(&dest, &spec.name).await?;
    let set = catalog::pick(&sets, &opts.pick, Utc::now(), &dest.name)?;
    Ok(DrillPlan {
        drill: spec.name.clone(),
        from: dest.name.clone(),
        location: dest.store.describe(),
        backup_id: set.id.clone(),
        recovery_point: set.manifest.snapshot_at,
        backup_bytes: set.manifest.total_size(),
        scratch: scratch_label(spec),
        jobs: spec.drill.jobs,
        checks: spec
            .checks
            .iter()
            .map(|c| format!("{} ({})", c.name, c.kind.label()))
            .collect(),
        rto_target: spec
            .targets
            .rto
            .map(|d| humantime::format_duration(d).to_string()),
        rpo_target: spec
            .targets
            .rpo
            .map(|d| humantime::format_duration(d).to_string()),
    })
}

/// Everything gathered while the drill runs, turned into the report at the end.
struct State {
    clock: PhaseClock,
    dest: Option<Destination>,
    set: Option<BackupSet>,
    history: Vec<DateTime<Utc>>,
    scratch: Option<Box<dyn ScratchTarget>>,
    checks: Vec<verify::CheckResult>,
    verify_end: Option<DateTime<Utc>>,
    /// Set when the recovery point is not the backup's snapshot (point-in-time restores).
    recovery_point: Option<DateTime<Utc>>,
    lease: Option<lease::Lease>,
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
    // A signing key that cannot be read stops the drill before it starts, not after.
    let signing_key = match &spec.drill.signing_key_file {
        Some(path) => Some(report::evidence::load_key(path)?),
        None => None,
    };
    // One drill of a spec at a time: a refused drill writes no report (it did not run).
    // An unreachable destination is not refused here: the drill then fails at `locate` and
    // its report says why.
    // The lease lives in the primary (one place for every `--from`), or, when the primary is
    // unreachable (a DR drill after losing it), in the destination read from.
    let primary = storage::open(spec.destinations.first().expect("validated")).await?;
    let held = match lease::acquire(&primary, &spec.name, "drill", None).await {
        Ok(l) => Some(l),
        Err(e) if e.kind == ErrorKind::Busy => return Err(e),
        Err(_) => {
            let from = resolve_from(spec, opts).await?;
            match lease::acquire(&from, &spec.name, "drill", None).await {
                Ok(l) => Some(l),
                Err(e) if e.kind == ErrorKind::Busy => return Err(e),
                Err(_) => None,
            }
        }
    };
    let started_at = Utc::now();
    info!(drill = %spec.name, "Drill started.");
    let mut st = State {
        clock: PhaseClock::default(),
        dest: None,
        set: None,
        history: Vec::new(),
        scratch: None,
        checks: Vec::new(),
        verify_end: None,
        recovery_point: None,
        lease: held,
    };
    let result = tokio::select! {
        r = execute(spec, opts, cancel, &mut st) => r,
        // execute() notices the token itself; this is the backstop for a phase stuck elsewhere.
        () = async { cancel.cancelled().await; tokio::time::sleep(Duration::from_secs(20)).await } => Err(Error::aborted()),
    };
    let mut kept_url = None;
    let cleanup = match st.scratch.as_mut() {
        None => None,
        Some(s) if opts.keep && result.is_ok() => {
            let url = s.keep();
            kept_url = Some(url);
            Some(
                s.cleanup()
                    .await
                    .unwrap_or_else(|e| scratch::CleanupOutcome {
                        removed: false,
                        kept: true,
                        detail: e.message,
                    }),
            )
        }
        Some(s) => Some(match s.cleanup().await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e.message, "Scratch cleanup failed.");
                scratch::CleanupOutcome {
                    removed: false,
                    kept: false,
                    detail: e.render(),
                }
            }
        }),
    };
    let report = build_report(spec, opts, started_at, &st, result, cleanup);
    info!(drill = %spec.name, verdict = ?report.verdict, "Drill finished.");
    let mirrors = storage::open_all(&spec.destinations)
        .await
        .unwrap_or_else(|e| {
            warn!(error = %e.message, "Reports not mirrored to the destinations.");
            Vec::new()
        });
    let stored = report::store(
        &report,
        &spec.drill.reports,
        st.dest.as_ref(),
        &mirrors,
        signing_key.as_ref(),
    )
    .await;
    if let Some(l) = st.lease.take() {
        l.release().await;
    }
    let stored = stored?;
    Ok(DrillOutcome {
        report,
        stored: Some(stored),
        kept_url,
    })
}

async fn execute(
    spec: &DrillSpec,
    opts: &DrillOptions,
    cancel: &CancellationToken,
    st: &mut State,
) -> Result<()> {
    let phase = st.clock.start("locate");
    let dest = resolve_from(spec, opts).await?;
    st.dest = Some(dest.clone());
    let sets = catalog::list(&dest, &spec.name).await?;
    st.history = sets.iter().map(|s| s.manifest.snapshot_at).collect();
    let set = catalog::pick(&sets, &opts.pick, Utc::now(), &dest.name)?.clone();
    st.set = Some(set.clone());
    if let Some(l) = &st.lease {
        l.set_backup_id(&set.id).await?;
    }
    match (&spec.drill.scratch, set.manifest.rds.is_some()) {
        (ScratchSpec::Rds(cfg), true) => {
            st.clock.end(phase, None);
            return execute_rds(spec, cfg, &set, cancel, st).await;
        }
        (ScratchSpec::Rds(_), false) | (_, true) => {
            return Err(Error::spec(format!(
                "backup `{}` is {} but drill.scratch is {}",
                set.id,
                if set.manifest.rds.is_some() { "an RDS snapshot" } else { "a pg_dump backup" },
                scratch_label(spec)
            ))
            .hint("RDS snapshots restore into scratch = { rds = { ... } }; pg_dump backups into \"ephemeral\" or a server"))
        }
        _ => {}
    }
    let (identities, _) = keys::load_identities(spec.drill.identity_file.as_deref())?;
    let tools = PgTools::new(spec.tools.bin_dir.clone());
    let m = &set.manifest;
    let pg_restore = tools.find(
        "pg_restore",
        m.method
            .tool_version
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(m.source.server_major),
        &format!("to read a dump made by pg_dump {}", m.method.tool_version),
    )?;
    st.clock.end(phase, None);
    info!(backup = %set.id, destination = %dest.name, "Backup chosen.");
    check_cancel(cancel)?;

    // Provisioning the scratch target and fetching the backup do not depend on each other:
    // they run at the same time, and both phases are recorded as they happened.
    let provisioning = async {
        let phase = st.clock.start("provision");
        let created = scratch::create(
            spec,
            &tools,
            m.source.server_major,
            &m.source.database,
            &set.id,
        )
        .await;
        (created, phase.finish(None))
    };
    // Table parts are not spooled: they stream into the scratch database during the restore.
    let archive_objects: Vec<_> = m.objects.iter().filter(|o| o.part.is_none()).collect();
    let part_count = m.objects.len() - archive_objects.len();
    let identities = Arc::new(identities);
    let fetching = async {
        let phase = st.clock.start("fetch+decrypt+decompress");
        let size = archive_objects.iter().map(|o| o.size).sum();
        let (fetched, display) = phase.progress(Unit::Bytes, Some(size));
        let (spool, file) = restore::Spool::create(&spec.drill.work_dir)?;
        let mut plain = 0;
        for obj in &archive_objects {
            let copy = file
                .try_clone()
                .map_err(|e| Error::scratch(e.to_string()))?;
            plain += restore::fetch(&dest, m, obj, identities.clone(), copy, &fetched, cancel)
                .await?
                .plain_bytes;
        }
        drop((file, display));
        Ok::<_, Error>((spool, plain, phase.finish(Some(plain))))
    };
    let ((created, provisioned), fetched) = tokio::join!(provisioning, fetching);
    st.clock.push(provisioned);
    let scratch_result = created.map(|s| st.scratch = Some(s));
    let (spool, plain, fetched_phase) = fetched?;
    st.clock.push(fetched_phase);
    scratch_result?;
    check_cancel(cancel)?;
    let scratch = st.scratch.as_ref().expect("just created");

    let phase = st.clock.start("restore");
    let entries = restore::toc_entries(&pg_restore, &spool.path).await;
    // Progress in archive entries, or for a backup with parts, in part bytes read (the bulk).
    let parts_size = m
        .objects
        .iter()
        .filter(|o| o.part.is_some())
        .map(|o| o.size)
        .sum();
    let (items, display) = if part_count == 0 {
        phase.progress(Unit::Items, entries)
    } else {
        phase.progress(Unit::Bytes, Some(parts_size))
    };
    let plain = if part_count == 0 {
        restore::pg_restore(
            &pg_restore,
            scratch.target(),
            &spool.path,
            None,
            spec.drill.jobs,
            &items,
            cancel,
        )
        .await?;
        plain
    } else {
        plain
            + restore::parts::restore(
                &pg_restore,
                scratch.target(),
                &spool.path,
                &dest,
                m,
                identities.clone(),
                spec.drill.jobs,
                &items,
                cancel,
            )
            .await?
    };
    drop((spool, display));
    st.clock.end(phase, Some(plain));
    check_cancel(cancel)?;

    let phase = st.clock.start("verify");
    let client = scratch
        .target()
        .connect("the restored scratch database")
        .await?;
    let checks = tokio::select! {
        c = verify::run_checks(&client, &spec.checks, &m.fingerprint, m.snapshot_at) => c,
        () = cancel.cancelled() => return Err(Error::aborted()),
    };
    st.checks = checks;
    let p = st.clock.end(phase, None);
    st.verify_end = Some(p.ended_at);
    Ok(())
}

/// The RDS path: restore request -> instance available -> first connection -> verify.
async fn execute_rds(
    spec: &DrillSpec,
    cfg: &crate::spec::RdsScratch,
    set: &BackupSet,
    cancel: &CancellationToken,
    st: &mut State,
) -> Result<()> {
    let m = &set.manifest;
    let phase = st.clock.start("restore request");
    let mut instance = scratch::RdsInstance::request(cfg, m, &spec.name).await?;
    st.clock.end(phase, None);
    st.recovery_point = instance.restored_to;
    let phase = st.clock.start("instance available");
    let waited = instance.wait_available(cancel).await;
    // From here on the instance exists: it is deleted whatever happens next.
    st.scratch = Some(Box::new(instance));
    waited?;
    st.clock.end(phase, None);
    let scratch = st.scratch.as_ref().expect("just set");
    let phase = st.clock.start("first connection");
    let client = scratch
        .target()
        .connect("the restored RDS instance")
        .await?;
    st.clock.end(phase, None);
    let phase = st.clock.start("verify");
    let recovery_point = st.recovery_point.unwrap_or(m.snapshot_at);
    let checks = tokio::select! {
        c = verify::run_checks(&client, &spec.checks, &m.fingerprint, recovery_point) => c,
        () = cancel.cancelled() => return Err(Error::aborted()),
    };
    st.checks = checks;
    let p = st.clock.end(phase, None);
    st.verify_end = Some(p.ended_at);
    Ok(())
}

fn check_cancel(cancel: &CancellationToken) -> Result<()> {
    if cancel.is_cancelled() {
        Err(Error::aborted())
    } else {
        Ok(())
    }
}

fn build_report(
    spec: &DrillSpec,
    opts: &DrillOptions,
    started_at: DateTime<Utc>,
    st: &State,
    result: Result<()>,
    cleanup: Option<scratch::CleanupOutcome>,
) -> DrillReport {
    let rto = st.verify_end.map(|_| {
        let m = Measured::new(st.clock.wall_seconds(), spec.targets.rto);
        Rto {
            seconds: m.seconds,
            target_seconds: m.target_seconds,
            pass: m.pass,
            phases: st
                .clock
                .phases
                .iter()
                .map(|p| PhaseTime {
                    name: p.name.clone(),
                    seconds: p.seconds,
                })
                .collect(),
        }
    });
    let rpo = st.set.as_ref().map(|set| {
        let recovery_point = st.recovery_point.unwrap_or(set.manifest.snapshot_at);
        let seconds = (started_at - recovery_point).num_milliseconds() as f64 / 1000.0;
        let m = Measured::new(seconds.max(0.0), spec.targets.rpo);
        Rpo {
            recovery_point,
            disaster_at: started_at,
            seconds: m.seconds,
            target_seconds: m.target_seconds,
            pass: m.pass,
            worst_gap_30d_seconds: worst_gap(
                &st.history,
                started_at,
                Duration::from_secs(30 * 86400),
            ),
        }
    });
    let backup = match (&st.set, &st.dest) {
        (Some(set), Some(dest)) => Some(BackupRef {
            id: set.id.clone(),
            destination: dest.name.clone(),
            location: dest.store.describe(),
            snapshot_at: set.manifest.snapshot_at,
            objects: set
                .manifest
                .objects
                .iter()
                .map(|o| ObjectRef {
                    name: o.name.clone(),
                    size: o.size,
                    sha256: o.sha256.clone(),
                })
                .collect(),
            source: SourceRef {
                host: set.manifest.source.host.clone(),
                database: set.manifest.source.database.clone(),
                server_version: set.manifest.source.server_version.clone(),
                size_bytes: u64::try_from(set.manifest.source.size_bytes).ok(),
            },
        }),
        _ => None,
    };
    let mut reasons = Vec::new();
    let verdict = match &result {
        Err(e) => {
            reasons.push(e.render());
            match e.kind {
                ErrorKind::Aborted => Verdict::Aborted,
                ErrorKind::Integrity | ErrorKind::Restore => Verdict::Failed,
                _ => Verdict::Error,
            }
        }
        Ok(()) => {
            for c in st.checks.iter().filter(|c| !c.pass) {
                reasons.push(format!("check `{}` failed: {}", c.name, c.actual));
            }
            if let Some(Rto {
                pass: Some(false),
                seconds,
                ..
            }) = &rto
            {
                reasons.push(format!("RTO {seconds:.1} s exceeds the target"));
            }
            if let Some(Rpo {
                pass: Some(false),
                seconds,
                ..
            }) = &rpo
            {
                reasons.push(format!(
                    "RPO {} exceeds the target",
                    humantime::format_duration(Duration::from_secs(*seconds as u64))
                ));
            }
            if reasons.is_empty() {
                Verdict::Passed
            } else {
                Verdict::Failed
            }
        }
    };
    let cleanup_failed = cleanup.as_ref().is_some_and(|c| !c.removed && !c.kept);
    if cleanup_failed {
        reasons.push("the scratch target could not be removed".into());
    }
    let verdict = if cleanup_failed && verdict == Verdict::Passed {
        Verdict::Error
    } else {
        verdict
    };
    DrillReport {
        lease_takeover: st.lease.as_ref().and_then(|l| l.took_over.clone()),
        previous_sha256: None,
        schedule: spec.drill.schedule.as_ref().map(|s| report::ScheduleRef {
            cron: s.text().to_string(),
            timezone: s.timezone().to_string(),
        }),
        format_version: report::FORMAT_VERSION,
        tool_version: crate::VERSION.into(),
        drill: spec.name.clone(),
        verdict,
        reason: (!reasons.is_empty()).then(|| reasons.join("\n")),
        started_at,
        finished_at: Utc::now(),
        host: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        trigger: Trigger {
            kind: opts.trigger.clone(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into()),
        },
        backup,
        scratch: st.scratch.as_ref().map(|s| s.info()),
        phases: st.clock.phases.clone(),
        rto,
        rpo,
        checks: st.checks.clone(),
        cleanup,
    }
}
