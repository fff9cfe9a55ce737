//! Prometheus text-format metrics for the node exporter's textfile collector. Each run
//! updates its own series and keeps the others (a failed drill keeps the last success time),
//! so alerts can say "no successful drill within the schedule + grace".

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::backup::BackupOutcome;
use crate::report::{DrillReport, Verdict};
use crate::{Error, Result};

const HELP: &[(&str, &str)] = &[
    (
        "firedrill_backup_last_attempt_timestamp_seconds",
        "When the last backup started.",
    ),
    (
        "firedrill_backup_last_success_timestamp_seconds",
        "When the last complete backup finished.",
    ),
    (
        "firedrill_backup_recovery_point_timestamp_seconds",
        "Recovery point of the last complete backup.",
    ),
    (
        "firedrill_backup_size_bytes",
        "Stored size of the last complete backup.",
    ),
    (
        "firedrill_backup_duration_seconds",
        "Duration of the last complete backup.",
    ),
    (
        "firedrill_drill_last_attempt_timestamp_seconds",
        "When the last drill started.",
    ),
    (
        "firedrill_drill_last_success_timestamp_seconds",
        "When the last passing drill started.",
    ),
    (
        "firedrill_drill_passed",
        "1 when the last drill passed, 0 otherwise.",
    ),
    (
        "firedrill_drill_rto_seconds",
        "Measured RTO of the last drill that restored.",
    ),
    (
        "firedrill_drill_rto_target_seconds",
        "RTO target of the spec.",
    ),
    (
        "firedrill_drill_rpo_seconds",
        "Measured RPO of the last drill.",
    ),
    (
        "firedrill_drill_rpo_target_seconds",
        "RPO target of the spec.",
    ),
    (
        "firedrill_drill_check_failures",
        "Failed checks in the last drill.",
    ),
    (
        "firedrill_drill_negative_controls_missed",
        "Injected faults the last drill's checks did not catch (each fails the drill).",
    ),
    (
        "firedrill_scheduler_started_timestamp_seconds",
        "When the schedule daemon started.",
    ),
    (
        "firedrill_scheduler_last_pass_timestamp_seconds",
        "When the schedule daemon last looked for due work.",
    ),
];

pub fn ts(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// Series of one drill name: metric name -> value.
pub type Series = BTreeMap<String, f64>;

fn label(drill: &str) -> String {
    format!(
        "{{drill=\"{}\"}}",
        drill.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// Reads the file's samples: (metric, labels) -> value. Unknown lines are kept out.
pub fn read(path: &Path) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((head, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match head.find('{') {
            Some(i) => (head[..i].to_string(), head[i..].to_string()),
            None => (head.to_string(), String::new()),
        };
        out.insert((name, labels), v);
    }
    out
}

fn write(path: &Path, samples: &BTreeMap<(String, String), f64>) -> Result<()> {
    let text = render(samples);
    // The folder is the collector's (node_exporter's textfile folder): firedrill creates
    // nothing outside what the spec names as its own.
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(Error::storage(format!(
            "the folder `{}` of metrics file `{}` does not exist",
            dir.display(),
            path.display()
        ))
        .hint("point metrics.textfile into the textfile collector's folder (node_exporter --collector.textfile.directory), or create that folder"));
    }
    let tmp = path.with_extension("prom.partial");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            Error::storage(format!(
                "cannot write metrics file `{}`: {e}",
                path.display()
            ))
            .hint("fix metrics.textfile")
        })
}

/// Renders samples (metric, labels) -> value as Prometheus text, in the order of `HELP`.
pub fn render(samples: &BTreeMap<(String, String), f64>) -> String {
    let mut text = String::new();
    for (name, help) in HELP {
        let rows: Vec<_> = samples.iter().filter(|((n, _), _)| n == name).collect();
        if rows.is_empty() {
            continue;
        }
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for ((n, labels), v) in rows {
            text.push_str(&format!("{n}{labels} {v}\n"));
        }
    }
    text
}

/// The samples of one drill's series.
pub fn samples(drill: &str, series: &Series) -> BTreeMap<(String, String), f64> {
    let labels = label(drill);
    series
        .iter()
        .map(|(name, v)| ((name.clone(), labels.clone()), *v))
        .collect()
}

/// Merges `series` of `drill` into the textfile at `path`, keeping every other series.
///
/// # Errors
/// When the file cannot be written.
pub fn update_file(path: &Path, drill: &str, series: &Series) -> Result<()> {
    let mut all = read(path);
    all.extend(samples(drill, series));
    write(path, &all)
}

/// The series a backup attempt sets (`outcome` is `None` when it failed: only the attempt).
pub fn backup_series(started: DateTime<Utc>, outcome: Option<&BackupOutcome>) -> Series {
    let mut s = Series::new();
    s.insert(
        "firedrill_backup_last_attempt_timestamp_seconds".into(),
        ts(started),
    );
    if let Some(o) = outcome.filter(|o| o.complete()) {
        s.insert(
            "firedrill_backup_last_success_timestamp_seconds".into(),
            ts(Utc::now()),
        );
        s.insert(
            "firedrill_backup_recovery_point_timestamp_seconds".into(),
            ts(o.snapshot_at),
        );
        s.insert("firedrill_backup_size_bytes".into(), o.stored_bytes as f64);
        s.insert("firedrill_backup_duration_seconds".into(), o.seconds);
    }
    s
}

/// The series a drill sets, from its report.
pub fn drill_series(r: &DrillReport) -> Series {
    let mut s = Series::new();
    s.insert(
        "firedrill_drill_last_attempt_timestamp_seconds".into(),
        ts(r.started_at),
    );
    let passed = r.verdict == Verdict::Passed;
    s.insert(
        "firedrill_drill_passed".into(),
        if passed { 1.0 } else { 0.0 },
    );
    if passed {
        s.insert(
            "firedrill_drill_last_success_timestamp_seconds".into(),
            ts(r.started_at),
        );
    }
    if let Some(rto) = &r.rto {
        s.insert("firedrill_drill_rto_seconds".into(), rto.seconds);
        if let Some(t) = rto.target_seconds {
            s.insert("firedrill_drill_rto_target_seconds".into(), t);
        }
    }
    if let Some(rpo) = &r.rpo {
        s.insert("firedrill_drill_rpo_seconds".into(), rpo.seconds);
        if let Some(t) = rpo.target_seconds {
            s.insert("firedrill_drill_rpo_target_seconds".into(), t);
        }
    }
    s.insert(
        "firedrill_drill_check_failures".into(),
        r.checks.iter().filter(|c| !c.pass).count() as f64,
    );
    if let Some(n) = &r.negative_controls {
        s.insert(
            "firedrill_drill_negative_controls_missed".into(),
            n.missed().count() as f64,
        );
    }
    s
}

/// The series of a drill that could not start (no report): an attempt that did not pass.
pub fn drill_error_series(started: DateTime<Utc>) -> Series {
    let mut s = Series::new();
    s.insert(
        "firedrill_drill_last_attempt_timestamp_seconds".into(),
        ts(started),
    );
    s.insert("firedrill_drill_passed".into(), 0.0);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_keep_other_series_and_other_drills() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        let at: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
        let mut s = Series::new();
        s.insert(
            "firedrill_drill_last_success_timestamp_seconds".into(),
            ts(at),
        );
        update_file(&path, "orders", &s).unwrap();
        let mut s = Series::new();
        s.insert("firedrill_drill_passed".into(), 0.0);
        update_file(&path, "orders", &s).unwrap();
        let mut s = Series::new();
        s.insert("firedrill_drill_passed".into(), 1.0);
        update_file(&path, "we\"ird", &s).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(
                "firedrill_drill_last_success_timestamp_seconds{drill=\"orders\"} 1795651200\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("firedrill_drill_passed{drill=\"orders\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("firedrill_drill_passed{drill=\"we\\\"ird\"} 1\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE firedrill_drill_passed gauge").count(),
            1
        );
    }
}
