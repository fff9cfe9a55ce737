//! The drill report: one serde model ([`DrillReport`], versioned), rendered as JSON (the
//! source of truth), Markdown and self-contained HTML, and stored under `drill.reports` and beside the backup set.

pub mod cited;
pub mod evidence;
pub(crate) mod html;
mod markdown;
pub mod mirror;
mod model;
mod store;
pub mod summary;

pub use html::render_html;
pub use markdown::render_markdown;
pub use model::*;
pub use store::{store, StoredReport};

/// JSON rendering (pretty, newline-terminated).
pub fn render_json(report: &DrillReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serialises");
    s.push('\n');
    s
}

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
