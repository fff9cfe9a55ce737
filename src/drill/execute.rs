//! The steps of a drill that touch things: locate the set -> the method restores it into
//! scratch -> verify -> negative controls. Everything gathered lands in [`State`], from which
//! the report is built whatever happened.

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{plan::scratch_label, Destinations, DrillOptions};
use tokio_postgres::Client;

use crate::catalog::{self, BackupSet};
use crate::heartbeat;
use crate::measure::{Phase, PhaseClock};
use crate::method::{self, Method, Restore};
use crate::scratch::ScratchTarget;
use crate::source::Fingerprint;
use crate::spec::DrillSpec;
use crate::storage::{lease, Destination};
use crate::verify;
use crate::verify::controls;
use crate::{Error, Result};

/// Everything gathered while the drill runs, turned into the report at the end.
pub(super) struct State {
    pub clock: PhaseClock,
    pub dest: Option<Destination>,
    pub set: Option<BackupSet>,
    /// Recovery points of every set in the destination (the worst gap of the last 30 days).
    pub history: Vec<DateTime<Utc>>,
    pub scratch: Option<Box<dyn ScratchTarget>>,
    pub checks: Vec<verify::CheckResult>,
    pub verify_end: Option<DateTime<Utc>>,
    /// The negative controls (`drill.negative-controls`), run after `verify`.
    pub controls: Option<verify::NegativeControls>,
    /// Their phase: timed, but not part of the RTO.
    pub controls_phase: Option<Phase>,
    /// Set when the recovery point is not the backup's snapshot (point-in-time restores).
    pub recovery_point: Option<DateTime<Utc>>,
    pub lease: Option<lease::Lease>,
    /// `[heartbeat]`: the newest heartbeat restored and the source at drill start.
    pub heartbeat: Option<heartbeat::Reading>,
}

impl State {
    pub fn new(lease: Option<lease::Lease>) -> Self {
        State {
            clock: PhaseClock::default(),
            dest: None,
            set: None,
            history: Vec::new(),
            scratch: None,
            checks: Vec::new(),
            verify_end: None,
            controls: None,
            controls_phase: None,
            recovery_point: None,
            lease,
            heartbeat: None,
        }
    }
}

pub(super) async fn execute(
    spec: &DrillSpec,
    opts: &DrillOptions,
    dests: &Destinations,
    cancel: &CancellationToken,
    st: &mut State,
) -> Result<()> {
    let method = method::of(spec);
    let probe = spec.heartbeat.map(|_| heartbeat::probe_source(spec));
    let (dest, set) = locate(spec, opts, dests, method.as_ref(), st).await?;
    let client = method
        .restore(Restore {
            spec,
            dest: &dest,
            set: &set,
            cancel,
            clock: &mut st.clock,
            scratch: &mut st.scratch,
            recovery_point: &mut st.recovery_point,
        })
        .await?;
    let (client, restored) = verify(spec, &set, client, probe, cancel, st).await?;
    if spec.drill.negative_controls {
        let target = Target {
            method: method.as_ref(),
            dest: &dest,
            set: &set,
            client: &client,
            restored: restored.as_ref(),
        };
        negative_controls(spec, &target, cancel, st).await?;
    }
    Ok(())
}

/// Chooses the set from the destination read from, and claims it in the lease.
async fn locate(
    spec: &DrillSpec,
    opts: &DrillOptions,
    dests: &Destinations,
    method: &dyn Method,
    st: &mut State,
) -> Result<(Destination, BackupSet)> {
    let phase = st.clock.start("locate");
    let dest = dests.read_from(spec, opts)?;
    st.dest = Some(dest.clone());
    let sets = method.backups(&dest, &spec.name).await?;
    st.history = sets.iter().map(|s| s.manifest.snapshot_at).collect();
    let set = catalog::pick(&sets, &opts.pick, Utc::now(), &dest.name)?.clone();
    st.set = Some(set.clone());
    if let Some(l) = &st.lease {
        l.set_backup_id(&set.id).await?;
    }
    method::check_restorable(method, &set, &spec.drill.scratch, &scratch_label(spec))?;
    st.clock.end(phase, None);
    Ok((dest, set))
}

/// The checks against the restored scratch target, through the method's connection when it
/// opened one. Returns the connection and the restored fingerprint the checks compared.
async fn verify(
    spec: &DrillSpec,
    set: &BackupSet,
    client: Option<tokio_postgres::Client>,
    probe: Option<SourceProbe>,
    cancel: &CancellationToken,
    st: &mut State,
) -> Result<(Client, Option<Fingerprint>)> {
    let m = &set.manifest;
    let phase = st.clock.start("verify");
    let client = match client {
        Some(c) => c,
        None => {
            let scratch = st.scratch.as_ref().expect("restored");
            scratch
                .target()
                .connect("the restored scratch database")
                .await?
        }
    };
    if let Some(probe) = probe {
        st.heartbeat = Some(read_heartbeat(&client, probe).await?);
    }
    let recovery_point = st.recovery_point.unwrap_or(m.snapshot_at);
    let checks = tokio::select! {
        c = verify::run_checks(&client, &spec.checks, &m.fingerprint, recovery_point) => c,
        () = cancel.cancelled() => return Err(Error::aborted()),
    };
    st.checks = checks.results;
    let p = st.clock.end(phase, None);
    st.verify_end = Some(p.ended_at);
    Ok((client, checks.restored))
}

/// The source's clock and heartbeat installation, read while the restore runs.
type SourceProbe = tokio::task::JoinHandle<Option<heartbeat::SourceClock>>;

/// The newest heartbeat the restore brought back, before the checks touch the database.
async fn read_heartbeat(client: &Client, probe: SourceProbe) -> Result<heartbeat::Reading> {
    Ok(heartbeat::Reading {
        restored: heartbeat::read_restored(client).await?,
        source: probe.await.ok().flatten(),
    })
}

/// What the negative controls act on: the restored set and the scratch database.
struct Target<'a> {
    method: &'a dyn Method,
    dest: &'a Destination,
    set: &'a BackupSet,
    client: &'a Client,
    restored: Option<&'a Fingerprint>,
}

/// Proves the checks (and the data path) able to fail: known faults injected, each must be
/// caught. Its own phase, outside the RTO.
async fn negative_controls(
    spec: &DrillSpec,
    t: &Target<'_>,
    cancel: &CancellationToken,
    st: &mut State,
) -> Result<()> {
    let phase = st.clock.start("negative-controls");
    let subject = controls::Subject {
        client: t.client,
        checks: &spec.checks,
        results: &st.checks,
        expected: &t.set.manifest.fingerprint,
        restored: t.restored,
        recovery_point: st.recovery_point.unwrap_or(t.set.manifest.snapshot_at),
    };
    let run = async {
        let mut all = t
            .method
            .data_path_controls(spec, t.dest, t.set, cancel)
            .await;
        all.extend(controls::run(&subject).await);
        all
    };
    let all = tokio::select! {
        all = run => all,
        () = cancel.cancelled() => return Err(Error::aborted()),
    };
    let p = phase.finish(None);
    st.controls = Some(verify::NegativeControls::new(all, p.seconds));
    st.controls_phase = Some(p);
    Ok(())
}
