//! The drill report: one serde model ([`DrillReport`], versioned), rendered as JSON (the
//! source of truth), Markdown and self-contained HTML.

mod cost;
pub(crate) mod html;
mod markdown;
mod model;
pub mod runbook;
pub(crate) mod words;

pub use html::render_html;
pub use markdown::render_markdown;
pub use model::*;

/// JSON rendering (pretty, newline-terminated).
pub fn render_json(report: &DrillReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serialises");
    s.push('\n');
    s
}
