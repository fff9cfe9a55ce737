//! Words shared by the renderers of drill reports and of the compliance summary.

use super::Verdict;

/// A duration for people: seconds, minutes or hours.
pub(crate) fn human_seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.2} s")
    }
}

/// `met`, `MISSED` or `no target`.
pub(crate) fn target_word(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "no target",
    }
}

/// `PASSED`, `FAILED`, `COULD NOT RUN` or `ABORTED`.
pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "PASSED",
        Verdict::Failed => "FAILED",
        Verdict::Error => "COULD NOT RUN",
        Verdict::Aborted => "ABORTED",
    }
}

/// A Markdown table cell: pipes escaped, on one line.
pub(crate) fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
