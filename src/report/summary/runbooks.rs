//! The newest restore runbook a passed drill proved, per database: the summary's evidence
//! that recovery procedures are documented and tested.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{when, DrillSummary};
use crate::report::drill::words::{esc, md_cell as cell};
use crate::report::{DrillReport, Verdict};

/// A proven runbook, cited by the report that proved it.
#[derive(Debug, Clone, Serialize)]
pub struct CitedRunbook {
    pub database: String,
    pub backup_id: String,
    /// The start of the drill that proved it.
    pub proven_at: DateTime<Utc>,
    /// Steps in the runbook.
    pub steps: usize,
    /// Report file name.
    pub report: String,
}

/// The newest proven runbook per database, by database name.
pub(super) fn newest(reports: &[&(String, DrillReport)]) -> Vec<CitedRunbook> {
    let mut newest: BTreeMap<String, CitedRunbook> = BTreeMap::new();
    for (file, r) in reports {
        let (Verdict::Passed, Some(b), Some(rb)) = (r.verdict, &r.backup, &r.runbook) else {
            continue;
        };
        if !rb.proven {
            continue;
        }
        newest.insert(
            b.source.database.clone(),
            CitedRunbook {
                database: b.source.database.clone(),
                backup_id: rb.backup_id.clone(),
                proven_at: r.started_at,
                steps: rb.steps.len(),
                report: file.clone(),
            },
        );
    }
    newest.into_values().collect()
}

/// The control gap: no runbook proven.
pub(super) fn gap(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    if d.newest_runbooks.is_empty() {
        vec![format!(
            "`{}`: no restore runbook proven by a passed drill",
            d.drill
        )]
    } else {
        Vec::new()
    }
}

/// `### Newest proven runbook` and its table.
pub(super) fn markdown(o: &mut String, d: &DrillSummary) {
    let _ = writeln!(o, "### Newest proven runbook\n");
    if d.newest_runbooks.is_empty() {
        o.push_str("No restore runbook was proven by a passed drill.\n\n");
        return;
    }
    let _ = writeln!(
        o,
        "| database | backup | proven | steps | report |\n|---|---|---|---:|---|"
    );
    for c in &d.newest_runbooks {
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | `{}` |",
            cell(&c.database),
            c.backup_id,
            when(c.proven_at),
            c.steps,
            c.report
        );
    }
    let _ = writeln!(
        o,
        "\n`firedrill runbook SPEC --backup ID` prints it, with the script that restores without firedrill.\n"
    );
}

/// The same as an HTML section.
pub(super) fn html(o: &mut String, d: &DrillSummary) {
    o.push_str("<h3>Newest proven runbook</h3>");
    if d.newest_runbooks.is_empty() {
        o.push_str("<p class=\"fail\">No restore runbook was proven by a passed drill.</p>");
        return;
    }
    o.push_str("<table class=\"runbooks\"><thead><tr><th scope=\"col\">database</th><th scope=\"col\">backup</th><th scope=\"col\">proven</th><th scope=\"col\">steps</th><th scope=\"col\">report</th></tr></thead><tbody>");
    for c in &d.newest_runbooks {
        let _ = write!(
            o,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            esc(&c.database),
            esc(&c.backup_id),
            when(c.proven_at),
            c.steps,
            esc(&c.report)
        );
    }
    o.push_str("</tbody></table><p><code>firedrill runbook SPEC --backup ID</code> prints it, with the script that restores without firedrill.</p>");
}
