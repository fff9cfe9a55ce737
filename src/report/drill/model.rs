//! The report model. `FORMAT_VERSION` changes whenever a field changes meaning or goes away.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::measure::Phase;
use crate::scratch::{CleanupOutcome, ScratchInfo};
use crate::verify::{CheckResult, NegativeControls};
use crate::Exit;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check and target met.
    Passed,
    /// The drill ran and a check or target failed, or the backup proved unrestorable.
    Failed,
    /// The drill could not run (configuration, keys, tools, storage unreachable).
    Error,
    /// Interrupted by a signal.
    Aborted,
}

impl Verdict {
    /// Passed, failed, or could not run (an error or aborted).
    pub fn exit_code(self) -> Exit {
        match self {
            Verdict::Passed => Exit::Pass,
            Verdict::Failed => Exit::Failed,
            Verdict::Error | Verdict::Aborted => Exit::CouldNotRun,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DrillReport {
    pub format_version: u32,
    pub tool_version: String,
    pub drill: String,
    pub verdict: Verdict,
    /// Why the verdict is not `passed`.
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub host: String,
    pub trigger: Trigger,
    pub backup: Option<BackupRef>,
    pub scratch: Option<ScratchInfo>,
    pub phases: Vec<Phase>,
    pub rto: Option<Rto>,
    pub rpo: Option<Rpo>,
    pub checks: Vec<CheckResult>,
    pub cleanup: Option<CleanupOutcome>,
    /// Holder of an expired drill lease this run took over (a run that died).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_takeover: Option<String>,
    /// SHA-256 of the previous report of this drill in the report store (the chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    /// The drill schedule in force when this drill ran (absent for specs without one and in
    /// reports written before it was recorded); the compliance summary reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleRef>,
    /// Faults injected after the checks and whether each was caught (absent when the drill
    /// did not get that far, or with `drill.negative-controls = false`). Versioned on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_controls: Option<NegativeControls>,
    /// What the drill consumed (bytes read, scratch disk and CPU, RDS instance time) and,
    /// with the spec's prices, what it cost. Versioned on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::Cost>,
    /// How to recover the backup this drill restored (absent when the drill did not get to a
    /// backup, its method writes none, and in reports written before runbooks). Versioned on
    /// its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<super::runbook::model::Runbook>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleRef {
    /// Cron expression (`drill.schedule`).
    pub cron: String,
    /// IANA time zone it is read in (`timezone`).
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    /// `manual`, `demo` or `schedule`.
    pub kind: String,
    pub user: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupRef {
    pub id: String,
    /// Destination name read from.
    pub destination: String,
    /// Its location (no secrets).
    pub location: String,
    pub snapshot_at: DateTime<Utc>,
    pub objects: Vec<ObjectRef>,
    pub source: SourceRef,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectRef {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceRef {
    pub host: String,
    pub database: String,
    pub server_version: String,
    /// Size of the source database when the backup was taken (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rto {
    /// Wall time from the start of locating the backup to the end of verification.
    pub seconds: f64,
    pub target_seconds: Option<f64>,
    pub pass: Option<bool>,
    pub phases: Vec<PhaseTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhaseTime {
    pub name: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rpo {
    /// The backup's `snapshot_at`.
    pub recovery_point: DateTime<Utc>,
    /// The drill's start: the simulated disaster.
    pub disaster_at: DateTime<Utc>,
    pub seconds: f64,
    pub target_seconds: Option<f64>,
    pub pass: Option<bool>,
    /// Largest gap between consecutive complete backups (and to now) over the last 30 days.
    pub worst_gap_30d_seconds: Option<f64>,
    /// The RPO measured by the heartbeat (`[heartbeat]`): `seconds` is then its data lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatRpo>,
}

/// The newest heartbeat the restore brought back, and the data a disaster would have lost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeartbeatRpo {
    /// The newest heartbeat restored (the source's clock); absent when none was.
    pub newest: Option<DateTime<Utc>>,
    /// The source's WAL position at that heartbeat.
    pub lsn: Option<String>,
    /// The disaster (`disaster_at`) minus `newest`.
    pub data_lost_seconds: Option<f64>,
    /// The recovery point the backup method claims.
    pub claimed_recovery_point: DateTime<Utc>,
    /// The source's `now()` minus the drill host's clock at drill start (absent when the
    /// source could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_seconds: Option<f64>,
    /// Why nothing was measured without failing (`heartbeat installed after this backup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl HeartbeatRpo {
    /// The one line the Markdown and HTML reports show.
    pub fn line(&self) -> String {
        let secs = super::words::human_seconds;
        let skew = self
            .skew_seconds
            .map(|s| format!(", source clock {s:+.1} s from this host"))
            .unwrap_or_default();
        match (self.newest, self.data_lost_seconds) {
            (Some(n), Some(lost)) => format!(
                "newest restored {} (LSN {}), data lost {}; claimed recovery point {}{skew}",
                n.to_rfc3339(),
                self.lsn.as_deref().unwrap_or("unknown"),
                secs(lost),
                self.claimed_recovery_point.to_rfc3339()
            ),
            _ => format!(
                "none restored ({}); claimed recovery point {}{skew}",
                self.note
                    .as_deref()
                    .unwrap_or("no heartbeat table in the restored database"),
                self.claimed_recovery_point.to_rfc3339()
            ),
        }
    }
}
