//! CSV rendering of a [`Summary`]: a header and one row per drill (RFC 4180 quoting), for
//! spreadsheets. Times are RFC 3339 UTC, durations in seconds, missing values empty.

use super::{DrillSummary, Summary};

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "drill",
    "period_start",
    "period_end",
    "schedule",
    "timezone",
    "scheduled",
    "on_schedule",
    "missed",
    "pending",
    "run",
    "passed",
    "failed",
    "error",
    "aborted",
    "rto_target_seconds",
    "rto_latest_seconds",
    "rto_worst_seconds",
    "rto_over_target",
    "rpo_target_seconds",
    "rpo_latest_seconds",
    "rpo_worst_seconds",
    "rpo_over_target",
    "last_passed_at",
    "newest_verified_backups",
    "forecast_status",
    "forecast_date",
    "integrity_problems",
    "newest_proven_runbooks",
];

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row(s: &Summary, d: &DrillSummary) -> Vec<String> {
    let c = &d.counts;
    let status = serde_json::to_value(d.forecast.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    vec![
        d.drill.clone(),
        s.period.start.to_rfc3339(),
        s.period.end.to_rfc3339(),
        opt(d.schedule.as_ref().map(|x| x.cron.clone())),
        opt(d.schedule.as_ref().map(|x| x.timezone.clone())),
        opt(c.scheduled),
        opt(c.on_schedule),
        opt(c.missed),
        opt(c.pending),
        c.run.to_string(),
        c.passed.to_string(),
        c.failed.to_string(),
        c.error.to_string(),
        c.aborted.to_string(),
        opt(d.rto.target_seconds),
        opt(d.rto.latest_seconds),
        opt(d.rto.worst_seconds),
        d.rto.over_target.to_string(),
        opt(d.rpo.target_seconds),
        opt(d.rpo.latest_seconds),
        opt(d.rpo.worst_seconds),
        d.rpo.over_target.to_string(),
        opt(d.last_passed_at.map(|t| t.to_rfc3339())),
        d.newest_verified
            .iter()
            .map(|v| format!("{}:{}", v.database, v.backup_id))
            .collect::<Vec<_>>()
            .join(" "),
        status,
        opt(d.forecast.date.map(|t| t.to_rfc3339())),
        d.integrity.problems.len().to_string(),
        d.newest_runbooks
            .iter()
            .map(|c| format!("{}:{}", c.database, c.backup_id))
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// Renders the summary as CSV.
pub fn render_csv(s: &Summary) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for d in &s.drills {
        let cells: Vec<String> = row(s, d).iter().map(|c| field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}
