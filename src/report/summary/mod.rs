//! The compliance summary: what the drill reports of one or all drills prove over a period.
//!
//! Per drill: drills scheduled (from the cron schedule and time zone) against drills run and
//! passed, missed slots (see [`slots`]), failures with their reasons, RTO and RPO against
//! their targets, the newest verified backup per database, an RTO forecast (see
//! [`forecast`]) and the state of the tamper evidence; and a table mapping that evidence to
//! audit controls. One model ([`Summary`]), rendered as JSON, Markdown, HTML and CSV.

mod assemble;
mod chart;
mod collect;
mod controls;
mod cost;
pub mod forecast;
mod period;
mod render_csv;
mod render_html;
mod render_md;
mod runbooks;
pub mod slots;
pub mod storage;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use assemble::summarize;
pub use collect::{load, load_folder, DrillHistory, ScheduleSource};
pub use controls::Control;
pub use cost::CostTotals;
pub use forecast::{Forecast, ForecastStatus};
pub use period::{parse_duration, parse_since, parse_time};
pub use render_csv::{render_csv, COLUMNS as CSV_COLUMNS};
pub use render_html::render_html;
pub use render_md::render_markdown;
pub use runbooks::CitedRunbook;

use super::evidence::Finding;
use super::Verdict;
use crate::{Error, Result};

/// Version of the summary's JSON shape.
pub const FORMAT_VERSION: u32 = 1;

/// The period and rules of a summary.
#[derive(Debug, Clone)]
pub struct SummaryOptions {
    /// Start of the period (exclusive for schedule slots, inclusive for reports).
    pub since: DateTime<Utc>,
    /// End of the period: "now" for the summary.
    pub until: DateTime<Utc>,
    /// How long after the next slot a drill may still start and cover a slot.
    pub grace: chrono::Duration,
    /// How far ahead the RTO forecast looks.
    pub horizon_days: u32,
}

/// The whole summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub format_version: u32,
    pub tool_version: String,
    pub period: Period,
    pub drills: Vec<DrillSummary>,
    pub controls: Vec<Control>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub days: f64,
    pub grace_seconds: f64,
}

/// What one drill's reports show.
#[derive(Debug, Clone, Serialize)]
pub struct DrillSummary {
    pub drill: String,
    /// The schedule the slots were computed from, `None` when neither the spec nor a report
    /// gives one (then nothing is counted as scheduled or missed).
    pub schedule: Option<ScheduleUsed>,
    /// When monitoring began: the first drill report's start. Slots before it are neither
    /// scheduled nor missed (a spec is not late for drills before it existed).
    pub monitored_since: Option<DateTime<Utc>>,
    pub counts: Counts,
    /// Slots with no drill report (see [`slots`]).
    pub missed: Vec<DateTime<Utc>>,
    pub failures: Vec<Failure>,
    pub rto: Trend,
    pub rpo: Trend,
    /// Newest passed drill per database: the newest backup proven to restore.
    pub newest_verified: Vec<VerifiedBackup>,
    /// Newest restore runbook a passed drill proved, per database (`firedrill runbook`).
    pub newest_runbooks: Vec<CitedRunbook>,
    /// Newest passed drill in the whole history (also before the period).
    pub last_passed_at: Option<DateTime<Utc>>,
    pub forecast: Forecast,
    pub integrity: Integrity,
    /// What the drills of the period cost (absent when no report of it carries a cost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostTotals>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleUsed {
    pub cron: String,
    pub timezone: String,
    pub source: ScheduleSource,
}

/// Counts over the period. `scheduled`, `on_schedule`, `missed` and `pending` are `None`
/// without a schedule.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub scheduled: Option<usize>,
    pub on_schedule: Option<usize>,
    pub missed: Option<usize>,
    pub pending: Option<usize>,
    /// Drill reports started in the period, scheduled or not.
    pub run: usize,
    pub passed: usize,
    pub failed: usize,
    pub error: usize,
    pub aborted: usize,
}

/// A drill that did not pass.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub started_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub reason: String,
    /// Report file name.
    pub report: String,
}

/// A measurement over the period against its target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trend {
    pub target_seconds: Option<f64>,
    pub points: Vec<TrendPoint>,
    pub latest_seconds: Option<f64>,
    pub worst_seconds: Option<f64>,
    /// Points over the target (by the target recorded in each report).
    pub over_target: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub at: DateTime<Utc>,
    pub seconds: f64,
    /// Met the target recorded in its report (`None`: no target then).
    pub pass: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifiedBackup {
    pub database: String,
    pub backup_id: String,
    pub destination: String,
    pub location: String,
    pub recovery_point: DateTime<Utc>,
    pub verified_at: DateTime<Utc>,
    pub report: String,
}

/// The tamper evidence of the drill's report folder (`report verify`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Integrity {
    pub checked: usize,
    /// A `signing-key.pub` is recorded in the folder.
    pub signed: bool,
    /// What `report verify` finds, by report file name.
    pub problems: Vec<Finding>,
}

/// JSON rendering (pretty, newline-terminated).
pub fn render_json(s: &Summary) -> String {
    let mut out = serde_json::to_string_pretty(s).expect("summary serialises");
    out.push('\n');
    out
}

/// Writes `summary.html`, `summary.md`, `summary.json` and `summary.csv` into the folder
/// `out` (created if need be), calling `written` with each file written.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the folder or a file cannot be written.
pub fn write_files(s: &Summary, out: &Path, mut written: impl FnMut(&Path)) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| {
        Error::storage(format!("cannot create `{}`: {e}", out.display()))
            .hint("choose another --out folder")
    })?;
    for (name, text) in [
        ("summary.html", render_html(s)),
        ("summary.md", render_markdown(s)),
        ("summary.json", render_json(s)),
        ("summary.csv", render_csv(s)),
    ] {
        let file = out.join(name);
        std::fs::write(&file, text)
            .map_err(|e| Error::storage(format!("cannot write `{}`: {e}", file.display())))?;
        written(&file);
    }
    Ok(())
}

/// `2026-03-01 04:30 UTC`: minutes are enough for people.
pub(crate) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `—` for missing numbers.
pub(crate) fn opt_count(n: Option<usize>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
}
