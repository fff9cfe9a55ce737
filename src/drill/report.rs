//! The drill report from what the drill gathered: RTO (the phases against the target), RPO
//! (the recovery point against the target), the backup read, the verdict and its reasons.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::execute::State;
use super::DrillOptions;
use crate::heartbeat;
use crate::measure::{worst_gap, Measured};
use crate::report::{
    self, BackupRef, DrillReport, HeartbeatRpo, ObjectRef, PhaseTime, Rpo, Rto, SourceRef, Trigger,
    Verdict,
};
use crate::scratch::CleanupOutcome;
use crate::spec::{DrillSpec, PitrTarget, SourceMethod};
use crate::{ErrorKind, Result};

pub(super) fn build(
    spec: &DrillSpec,
    opts: &DrillOptions,
    started_at: DateTime<Utc>,
    st: &State,
    result: Result<()>,
    cleanup: Option<CleanupOutcome>,
    cost: crate::cost::Cost,
) -> DrillReport {
    let rto = rto(spec, st);
    let (rpo, unborne) = rpo(spec, started_at, st);
    let (verdict, reasons) = verdict(
        &result,
        st,
        rto.as_ref(),
        rpo.as_ref(),
        unborne.as_deref(),
        cleanup.as_ref(),
    );
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
            user: trigger_user(),
        },
        backup: backup_ref(st),
        scratch: st.scratch.as_ref().map(|s| s.info()),
        phases: st
            .clock
            .phases
            .iter()
            .chain(&st.controls_phase)
            .cloned()
            .collect(),
        rto,
        rpo,
        checks: st.checks.clone(),
        cleanup,
        negative_controls: st.controls.clone(),
        cost: Some(cost),
        runbook: runbook(spec, started_at, st, verdict),
    }
}

/// The runbook of the backup restored, proven when the drill passed.
fn runbook(
    spec: &DrillSpec,
    started_at: DateTime<Utc>,
    st: &State,
    verdict: Verdict,
) -> Option<crate::runbook::Runbook> {
    let (set, dest) = (st.set.as_ref()?, st.dest.as_ref()?);
    let scratch = st.scratch.as_ref().map(|s| s.info());
    let method = crate::method::of(spec);
    crate::runbook::build(
        &crate::runbook::Drilled {
            spec,
            set,
            read_from: &dest.name,
            phases: &st.clock.phases,
            scratch_version: scratch.as_ref().map(|s| s.server_version.as_str()),
            started_at,
            passed: verdict == Verdict::Passed,
        },
        &|ctx| method.runbook(ctx),
    )
}

/// Measured only when the drill got through `verify`.
fn rto(spec: &DrillSpec, st: &State) -> Option<Rto> {
    st.verify_end?;
    let m = Measured::new(st.clock.wall_seconds(), spec.targets.rto);
    Some(Rto {
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
    })
}

/// How far a recovery point may lie after the drill's start before the clocks (or the
/// manifest) are taken to be wrong.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// The data a disaster at the drill's start would have lost: since the recovery point, or,
/// with `[heartbeat]`, since the newest heartbeat restored (then also why the claimed recovery
/// point is not borne out). A recovery point in the future cannot be measured against: it
/// never passes.
fn rpo(spec: &DrillSpec, started_at: DateTime<Utc>, st: &State) -> (Option<Rpo>, Option<String>) {
    let Some(set) = st.set.as_ref() else {
        return (None, None);
    };
    let recovery_point = st.recovery_point.unwrap_or(set.manifest.snapshot_at);
    let mut disaster_at = started_at;
    let mut seconds = (started_at - recovery_point).num_milliseconds() as f64 / 1000.0;
    let (heartbeat, unborne) = match measured_heartbeat(spec, started_at, st, recovery_point) {
        Some((h, disaster, failure)) => {
            if let Some(lost) = h.data_lost_seconds {
                (disaster_at, seconds) = (disaster, lost);
            }
            (Some(h), failure)
        }
        None => (None, None),
    };
    let m = Measured::new(seconds.max(0.0), spec.targets.rpo);
    let future = recovery_point > started_at + CLOCK_SKEW;
    let rpo = Rpo {
        recovery_point,
        disaster_at,
        seconds: m.seconds,
        target_seconds: m.target_seconds,
        pass: if future { Some(false) } else { m.pass },
        worst_gap_30d_seconds: worst_gap(&st.history, started_at, Duration::from_secs(30 * 86400)),
        heartbeat,
    };
    (Some(rpo), unborne)
}

/// The heartbeat's measurement, the disaster it is measured from (the drill's start, or the
/// target of a `--target-time` drill) and the failure when the claim is not borne out.
fn measured_heartbeat(
    spec: &DrillSpec,
    started_at: DateTime<Utc>,
    st: &State,
    claimed: DateTime<Utc>,
) -> Option<(HeartbeatRpo, DateTime<Utc>, Option<String>)> {
    let (hb, read) = (spec.heartbeat?, st.heartbeat.as_ref()?);
    let disaster_at = match &spec.source.method {
        SourceMethod::PgBackRest(s) => match s.target {
            PitrTarget::Time(t) => t,
            PitrTarget::Latest | PitrTarget::Immediate => started_at,
        },
        SourceMethod::PgDump | SourceMethod::Rds(_) => started_at,
    };
    let claim = heartbeat::Claim {
        recovery_point: claimed,
        disaster_at,
        interval: hb.interval,
    };
    let a = heartbeat::assess(read.restored.as_ref(), read.source.as_ref(), &claim);
    let h = HeartbeatRpo {
        newest: a.newest,
        lsn: a.lsn,
        data_lost_seconds: a.data_lost_seconds,
        claimed_recovery_point: claimed,
        skew_seconds: read.source.map(|s| s.skew_seconds),
        note: a.note,
    };
    Some((h, disaster_at, a.failure))
}

fn backup_ref(st: &State) -> Option<BackupRef> {
    let (set, dest) = (st.set.as_ref()?, st.dest.as_ref()?);
    let m = &set.manifest;
    Some(BackupRef {
        id: set.id.clone(),
        destination: dest.name.clone(),
        location: dest.store.describe(),
        snapshot_at: m.snapshot_at,
        objects: m
            .objects
            .iter()
            .map(|o| ObjectRef {
                name: o.name.clone(),
                size: o.size,
                sha256: o.sha256.clone(),
            })
            .collect(),
        source: SourceRef {
            host: m.source.host.clone(),
            database: m.source.database.clone(),
            server_version: m.source.server_version.clone(),
            size_bytes: u64::try_from(m.source.size_bytes).ok(),
        },
    })
}

/// The verdict and every reason for it. An error decides by its kind; otherwise failed
/// checks and missed targets fail the drill. A scratch target that could not be removed
/// turns a pass into an error. `unborne`: why the heartbeat does not bear out the claimed
/// recovery point.
fn verdict(
    result: &Result<()>,
    st: &State,
    rto: Option<&Rto>,
    rpo: Option<&Rpo>,
    unborne: Option<&str>,
    cleanup: Option<&CleanupOutcome>,
) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    let verdict = match result {
        Err(e) => {
            reasons.push(e.render());
            match e.kind {
                ErrorKind::Aborted => Verdict::Aborted,
                ErrorKind::Integrity | ErrorKind::Restore | ErrorKind::Timeout => Verdict::Failed,
                _ => Verdict::Error,
            }
        }
        Ok(()) => {
            for c in st.checks.iter().filter(|c| !c.pass) {
                reasons.push(format!("check `{}` failed: {}", c.name, c.actual));
            }
            for c in st.controls.iter().flat_map(|n| n.missed()) {
                reasons.push(format!(
                    "the checks could not fail: {}{} ({}) was not caught: {}",
                    c.control,
                    c.check
                        .as_deref()
                        .map(|n| format!(" control of check `{n}`"))
                        .unwrap_or_default(),
                    c.fault,
                    c.detail.as_deref().unwrap_or("")
                ));
            }
            reasons.extend(unborne.map(str::to_string));
            if let Some(r) = rto.filter(|r| r.pass == Some(false)) {
                reasons.push(format!("RTO {:.1} s exceeds the target", r.seconds));
            }
            match rpo.filter(|r| r.pass == Some(false)) {
                Some(r) if r.recovery_point > r.disaster_at + CLOCK_SKEW => {
                    reasons.push(format!(
                        "the recovery point {} lies {} after the drill started ({}): this host's clock or the backup's manifest is wrong",
                        r.recovery_point.to_rfc3339(),
                        humantime::format_duration(Duration::from_secs(
                            (r.recovery_point - r.disaster_at).num_seconds().max(0) as u64
                        )),
                        r.disaster_at.to_rfc3339()
                    ));
                }
                Some(r) => reasons.push(format!(
                    "RPO {} exceeds the target",
                    humantime::format_duration(Duration::from_secs(r.seconds as u64))
                )),
                None => {}
            }
            if reasons.is_empty() {
                Verdict::Passed
            } else {
                Verdict::Failed
            }
        }
    };
    let cleanup_failed = cleanup.is_some_and(|c| !c.removed && !c.kept);
    if cleanup_failed {
        reasons.push("the scratch target could not be removed".into());
    }
    if cleanup_failed && verdict == Verdict::Passed {
        (Verdict::Error, reasons)
    } else {
        (verdict, reasons)
    }
}

/// Who ran the drill: `USER`, else `LOGNAME`, else the name of the process's uid, else the uid
/// itself (cron and containers often set neither variable).
fn trigger_user() -> String {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    var("USER").or_else(|| var("LOGNAME")).unwrap_or_else(|| {
        let uid = nix::unistd::getuid();
        nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string())
    })
}
