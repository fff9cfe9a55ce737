//! `firedrill runbook SPEC [--backup ID]`: the runbook of the newest drill that passed (of
//! that backup), read from the spec's report folder, with when and by which report it was
//! proven. A runbook no passing drill wrote is never offered as proven.

use std::fmt::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::Runbook;
use crate::report::drill::words::{esc, human_time as at};
use crate::report::store::{read_report, reports};
use crate::report::Verdict;
use crate::spec::DrillSpec;
use crate::{Error, Result};

/// A runbook and the passing drill report that proves it.
#[derive(Debug, Clone, Serialize)]
pub struct Proven {
    /// When the proving drill finished.
    pub proven_at: DateTime<Utc>,
    /// Its report.
    pub report: PathBuf,
    pub runbook: Runbook,
}

/// What the report folder holds for the question asked.
#[derive(Debug)]
pub enum Lookup {
    Proven(Box<Proven>),
    /// No drill (of that backup) passed: why, in words, and what to run.
    NotProven {
        why: String,
        fix: String,
    },
}

/// The runbook of the newest passing drill of `spec` (of backup `backup`, when given).
/// Reports that cannot be read are passed over.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] for a backup id that cannot be one.
pub fn newest(spec: &DrillSpec, backup: Option<&str>) -> Result<Lookup> {
    if let Some(id) = backup {
        check_id(id)?;
    }
    let dir = spec.drill.reports.join(&spec.name);
    let files = reports(&dir);
    for path in files.iter().rev() {
        let Ok(r) = read_report(path) else { continue };
        let Some(rb) = r.runbook else { continue };
        if r.verdict != Verdict::Passed || backup.is_some_and(|b| b != rb.backup_id) {
            continue;
        }
        return Ok(Lookup::Proven(Box::new(Proven {
            proven_at: r.finished_at,
            report: path.clone(),
            runbook: rb,
        })));
    }
    let of = backup
        .map(|b| format!(" of backup `{b}`"))
        .unwrap_or_default();
    let backup_arg = backup.map(|b| format!(" --backup {b}")).unwrap_or_default();
    Ok(Lookup::NotProven {
        why: format!(
            "no drill{of} of `{}` has passed: no proven runbook among the {} report(s) in `{}`",
            spec.name,
            files.len(),
            dir.display()
        ),
        fix: format!(
            "run `firedrill drill {}{backup_arg}`; a runbook is offered only once a drill has proven it",
            spec.path.display()
        ),
    })
}

/// A backup id is letters, digits and `-`, `_`, `:` (`20261201T101010Z-a1b2c3`,
/// `repo2:20261201-101010F`).
fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::spec(format!("`{id}` is not a backup id"))
            .hint("give an id as `firedrill list SPEC` prints it, e.g. 20261201T101010Z-a1b2c3"))
    }
}

impl Proven {
    /// The heading line: which drill, and when it was last proven.
    fn heading(&self) -> String {
        format!(
            "Last proven {} by the drill report `{}`.",
            at(self.proven_at),
            self.report.display()
        )
    }

    /// Markdown: a title, when it was proven, the "Runbook" section.
    pub fn render_markdown(&self) -> String {
        let mut o = format!(
            "# Runbook of `{}`, backup `{}`\n\n{}\n\n",
            self.runbook.drill,
            self.runbook.backup_id,
            self.heading()
        );
        super::markdown::section(&mut o, &self.runbook);
        o
    }

    /// A self-contained HTML page.
    pub fn render_html(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Runbook of {}</title><style>{}</style></head><body><h1>Runbook of <code>{}</code>, backup <code>{}</code></h1><p id=\"proven\">{}</p>",
            esc(&self.runbook.drill),
            crate::report::drill::html::STYLE,
            esc(&self.runbook.drill),
            esc(&self.runbook.backup_id),
            crate::report::drill::words::html_code_spans(&self.heading())
        );
        super::html::section(&mut o, &self.runbook);
        o.push_str("</body></html>\n");
        o
    }

    /// JSON (pretty, newline-terminated).
    pub fn render_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("runbook serialises");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_ids_are_checked_before_use() {
        assert!(check_id("20261201T101010Z-a1b2c3").is_ok());
        assert!(check_id("repo2:20261201-101010F").is_ok());
        for bad in ["", "../x", "a b", "x;rm"] {
            assert_eq!(
                check_id(bad).unwrap_err().kind,
                crate::ErrorKind::Spec,
                "{bad:?}"
            );
        }
    }
}
