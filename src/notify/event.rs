//! What a finished backup or drill tells the outside world: the webhook body (documented in
//! the README, "Notifications") and the input of metrics. Never holds a secret: messages come
//! from errors and reports, which are redacted where they are made.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backup::BackupOutcome;
use crate::drill::DrillOutcome;
use crate::report::Verdict;
use crate::{Error, Exit};

/// Version of the webhook body; raised when a field changes meaning or goes away.
pub const EVENT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub version: u32,
    /// `<operation>.<status>`, e.g. `drill.failed`.
    pub event: String,
    /// `backup` or `drill`.
    pub operation: &'static str,
    /// Drills: `passed`, `failed`, `error`, `aborted`. Backups: `succeeded`, `failed`
    /// (stored, but a copy is missing), `error`, `aborted`.
    pub status: &'static str,
    /// True for `passed` and `succeeded`.
    pub ok: bool,
    /// The process exit code the run gives: 0, 1 or 2.
    pub exit_code: u8,
    pub drill: String,
    pub host: String,
    /// `manual`, `schedule`, `fleet` or `demo`.
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// One line for people.
    pub summary: String,
    /// Why it is not ok (absent when ok).
    pub reason: Option<String>,
    pub backup_id: Option<String>,
    pub rto_seconds: Option<f64>,
    pub rto_target_seconds: Option<f64>,
    pub rpo_seconds: Option<f64>,
    pub rpo_target_seconds: Option<f64>,
    /// Names of the checks that failed.
    pub failed_checks: Vec<String>,
    /// Path of the JSON drill report, when one was written.
    pub report: Option<String>,
}

fn host() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into())
}

impl Event {
    fn new(
        operation: &'static str,
        status: &'static str,
        drill: &str,
        trigger: &str,
        started_at: DateTime<Utc>,
    ) -> Event {
        let ok = matches!(status, "passed" | "succeeded");
        Event {
            version: EVENT_VERSION,
            event: format!("{operation}.{status}"),
            operation,
            status,
            ok,
            exit_code: match status {
                "passed" | "succeeded" => Exit::Pass,
                "failed" if operation == "drill" => Exit::Failed,
                _ => Exit::CouldNotRun,
            }
            .code(),
            drill: drill.to_string(),
            host: host(),
            trigger: trigger.to_string(),
            started_at,
            finished_at: Utc::now(),
            summary: String::new(),
            reason: None,
            backup_id: None,
            rto_seconds: None,
            rto_target_seconds: None,
            rpo_seconds: None,
            rpo_target_seconds: None,
            failed_checks: Vec::new(),
            report: None,
        }
    }

    /// The event of a backup run that finished or could not run.
    pub fn from_backup(
        drill: &str,
        trigger: &str,
        started_at: DateTime<Utc>,
        result: &Result<BackupOutcome, Error>,
    ) -> Event {
        let status = match result {
            Ok(o) if o.complete() => "succeeded",
            Ok(_) => "failed",
            Err(err) if err.kind == crate::ErrorKind::Aborted => "aborted",
            Err(_) => "error",
        };
        let mut e = Event::new("backup", status, drill, trigger, started_at);
        match result {
            Ok(o) if o.complete() => {
                e.summary = format!(
                    "Backup {} of `{drill}` stored and copied: {} bytes, recovery point {}.",
                    o.backup_id,
                    o.stored_bytes,
                    o.snapshot_at.to_rfc3339()
                );
            }
            Ok(o) => {
                e.summary = format!(
                    "Backup {} of `{drill}` stored in `{}`, but a copy is missing.",
                    o.backup_id, o.primary
                );
                e.reason = Some(format!("copies failed: {}", missing_copies(o)));
            }
            Err(err) => {
                let what = if status == "aborted" {
                    "was interrupted"
                } else {
                    "could not run"
                };
                e.summary = format!("Backup of `{drill}` {what}.");
                e.reason = Some(err.render());
            }
        }
        if let Ok(o) = result {
            e.backup_id = Some(o.backup_id.clone());
        }
        e
    }

    /// The event of a drill that finished (with a report) or could not start.
    pub fn from_drill(
        drill: &str,
        trigger: &str,
        started_at: DateTime<Utc>,
        result: &Result<DrillOutcome, Error>,
    ) -> Event {
        match result {
            Ok(outcome) => Event::from_report(drill, outcome),
            Err(err) => {
                let mut e = Event::new("drill", "error", drill, trigger, started_at);
                e.summary = format!("Drill `{drill}` could not run.");
                e.reason = Some(err.render());
                e
            }
        }
    }

    /// The event of a drill that finished with a report.
    fn from_report(drill: &str, outcome: &DrillOutcome) -> Event {
        let r = &outcome.report;
        let status = match r.verdict {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Error => "error",
            Verdict::Aborted => "aborted",
        };
        let mut e = Event::new("drill", status, drill, &r.trigger.kind, r.started_at);
        e.finished_at = r.finished_at;
        e.reason = r.reason.clone();
        e.backup_id = r.backup.as_ref().map(|b| b.id.clone());
        e.rto_seconds = r.rto.as_ref().map(|x| x.seconds);
        e.rto_target_seconds = r.rto.as_ref().and_then(|x| x.target_seconds);
        e.rpo_seconds = r.rpo.as_ref().map(|x| x.seconds);
        e.rpo_target_seconds = r.rpo.as_ref().and_then(|x| x.target_seconds);
        e.failed_checks = r
            .checks
            .iter()
            .filter(|c| !c.pass)
            .map(|c| c.name.clone())
            .collect();
        e.report = outcome
            .stored
            .as_ref()
            .map(|s| s.json.display().to_string());
        e.summary = e.drill_summary();
        e
    }

    /// One line for people: the status, the RTO and the failed checks.
    fn drill_summary(&self) -> String {
        let mut summary = format!("Drill `{}` {}", self.drill, self.status);
        if let Some(rto) = self.rto_seconds {
            summary.push_str(&format!(": RTO {rto:.0} s"));
            if let Some(t) = self.rto_target_seconds {
                summary.push_str(&format!(" (target {t:.0} s)"));
            }
        }
        if !self.failed_checks.is_empty() {
            summary.push_str(&format!(
                "; failed checks: {}",
                self.failed_checks.join(", ")
            ));
        }
        summary.push('.');
        summary
    }
}

/// The copies of a backup that failed, with why.
fn missing_copies(o: &BackupOutcome) -> String {
    let missing: Vec<String> = o
        .replicas
        .iter()
        .filter(|r| !r.parity)
        .map(|r| {
            format!(
                "`{}`: {}",
                r.destination,
                r.error.as_deref().unwrap_or("copy differs")
            )
        })
        .collect();
    missing.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::ReplicaOutcome;

    fn stored(replicas: Vec<ReplicaOutcome>) -> Result<BackupOutcome, Error> {
        Ok(BackupOutcome {
            drill: "orders".into(),
            backup_id: "20261126T020000Z-abcdef".into(),
            snapshot_at: "2026-11-26T02:00:00Z".parse().unwrap(),
            primary: "main".into(),
            stored_bytes: 1234,
            plain_bytes: 5678,
            seconds: 1.5,
            replicas,
            phases: Vec::new(),
            lease_takeover: None,
        })
    }

    #[test]
    fn stored_backups_say_whether_every_copy_is_there() {
        let started = Utc::now();
        let ok = ReplicaOutcome {
            destination: "dr".into(),
            parity: true,
            error: None,
        };
        let e = Event::from_backup("orders", "manual", started, &stored(vec![ok]));
        assert_eq!(
            (e.event.as_str(), e.ok, e.exit_code),
            ("backup.succeeded", true, 0)
        );
        assert_eq!(
            e.summary,
            "Backup 20261126T020000Z-abcdef of `orders` stored and copied: 1234 bytes, \
             recovery point 2026-11-26T02:00:00+00:00."
        );
        assert_eq!(e.reason, None);
        assert_eq!(e.backup_id.as_deref(), Some("20261126T020000Z-abcdef"));

        let failed = ReplicaOutcome {
            destination: "dr".into(),
            parity: false,
            error: Some("bucket `b` is missing".into()),
        };
        let e = Event::from_backup("orders", "fleet", started, &stored(vec![failed]));
        assert_eq!(
            (e.event.as_str(), e.ok, e.exit_code),
            ("backup.failed", false, 2)
        );
        assert_eq!(
            e.summary,
            "Backup 20261126T020000Z-abcdef of `orders` stored in `main`, but a copy is missing."
        );
        assert_eq!(
            e.reason.as_deref(),
            Some("copies failed: `dr`: bucket `b` is missing")
        );
        assert_eq!(e.backup_id.as_deref(), Some("20261126T020000Z-abcdef"));
    }

    #[test]
    fn errors_become_error_events_with_exit_code_2() {
        let started = Utc::now();
        let err: Result<BackupOutcome, Error> = Err(Error::storage("bucket `b` is missing"));
        let e = Event::from_backup("orders", "manual", started, &err);
        assert_eq!(e.event, "backup.error");
        assert!(!e.ok);
        assert_eq!(e.exit_code, 2);
        assert_eq!(e.reason.as_deref(), Some("bucket `b` is missing"));

        let err: Result<DrillOutcome, Error> = Err(Error::aborted());
        let e = Event::from_drill("orders", "schedule", started, &err);
        assert_eq!(e.event, "drill.error");
        assert_eq!(e.trigger, "schedule");
        let err: Result<BackupOutcome, Error> = Err(Error::aborted());
        assert_eq!(
            Event::from_backup("orders", "manual", started, &err).status,
            "aborted"
        );
    }
}
