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
    // Drills of the backup asked for that passed but whose reports carry no runbook.
    let mut without = 0;
    for path in files.iter().rev() {
        let Ok(r) = read_report(path) else { continue };
        let of_backup = |id: &str| backup.is_none_or(|b| b == id);
        if r.verdict != Verdict::Passed {
            continue;
        }
        match r.runbook {
            Some(rb) if rb.proven && of_backup(&rb.backup_id) => {
                return Ok(Lookup::Proven(Box::new(Proven {
                    proven_at: r.finished_at,
                    report: path.clone(),
                    runbook: rb,
                })));
            }
            None if r.backup.as_ref().is_some_and(|b| of_backup(&b.id)) => without += 1,
            _ => {}
        }
    }
    Ok(not_proven(spec, backup, files.len(), without))
}

/// Why there is no proven runbook, and what to run.
fn not_proven(spec: &DrillSpec, backup: Option<&str>, reports: usize, without: usize) -> Lookup {
    let dir = spec.drill.reports.join(&spec.name);
    let of = backup
        .map(|b| format!(" of backup `{b}`"))
        .unwrap_or_default();
    let backup_arg = backup.map(|b| format!(" --backup {b}")).unwrap_or_default();
    let why = if without > 0 {
        format!(
            "{without} drill(s){of} of `{}` passed, but their reports in `{}` carry no runbook: its backup method writes none yet, or the reports are older than runbooks",
            spec.name,
            dir.display()
        )
    } else {
        format!(
            "no drill{of} of `{}` has passed: no proven runbook among the {reports} report(s) in `{}`",
            spec.name,
            dir.display()
        )
    };
    Lookup::NotProven {
        why,
        fix: format!(
            "run `firedrill drill {}{backup_arg}`; a runbook is offered only once a drill has proven it",
            spec.path.display()
        ),
    }
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
        crate::report::drill::runbook::markdown::section(&mut o, &self.runbook);
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
        crate::report::drill::runbook::html::section(&mut o, &self.runbook);
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
    use crate::runbook::model::{Inputs, Targets, VERSION};
    use crate::testing::SpecBuilder;

    /// A report of drill `shop`, backup `id`, started at second `at` of the day.
    fn report(dir: &std::path::Path, at: u32, verdict: &str, id: &str, rb: Option<&Runbook>) {
        let t = format!("2026-12-01T00:00:{at:02}Z");
        let mut v = serde_json::json!({
            "format_version": 1, "tool_version": "0", "drill": "shop", "verdict": verdict,
            "reason": null, "started_at": t, "finished_at": t, "host": "h",
            "trigger": {"kind": "manual", "user": "u"},
            "backup": {"id": id, "destination": "dr", "location": "file:///dr", "snapshot_at": t,
                       "objects": [], "source": {"host": "h", "database": "db", "server_version": "15"}},
            "scratch": null, "phases": [], "rto": null, "rpo": null, "checks": [], "cleanup": null
        });
        if let Some(rb) = rb {
            v["runbook"] = serde_json::to_value(rb).unwrap();
        }
        let dir = dir.join("shop");
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("20261201T0000{at:02}000Z.json");
        std::fs::write(dir.join(name), v.to_string()).unwrap();
    }

    fn runbook(id: &str, proven: bool) -> Runbook {
        let at = crate::testing::utc("2026-12-01T00:00:00Z");
        Runbook {
            version: VERSION,
            drill: "shop".into(),
            backup_id: id.into(),
            method: "pg_dump".into(),
            recovery_point: at,
            drilled_at: at,
            proven,
            steps: Vec::new(),
            tools: Vec::new(),
            inputs: Inputs {
                destination: "dr".into(),
                location: "file:///dr".into(),
                region: None,
                endpoint: None,
                credentials: None,
                key: None,
                recipients: Vec::new(),
                snapshot: None,
            },
            with_firedrill: Vec::new(),
            script: format!("restore {id}"),
            notify: Vec::new(),
            targets: Targets::default(),
        }
    }

    #[test]
    fn only_a_passed_drill_proves_a_runbook() {
        let dir = tempfile::tempdir().unwrap();
        let (_, recipient) = crate::pipeline::keys::generate();
        let spec = SpecBuilder::new("shop")
            .source_url("postgres://u@h/db")
            .recipients(&[recipient])
            .destination("primary", "file:///b/primary")
            .drill("from", "primary")
            .drill("reports", dir.path().display().to_string())
            .parse()
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let (a, b, c) = (
            "20261201T000000Z-aaaaaa",
            "20261201T000000Z-bbbbbb",
            "20261201T000000Z-cccccc",
        );
        report(dir.path(), 1, "passed", a, Some(&runbook(a, true)));
        report(dir.path(), 2, "failed", b, Some(&runbook(b, false)));
        report(dir.path(), 3, "passed", c, None);
        let found = |backup: Option<&str>| newest(&spec, backup).unwrap();
        // The newest passed drill with a runbook, whatever came after it.
        match found(None) {
            Lookup::Proven(p) => assert_eq!(p.runbook.script, format!("restore {a}")),
            other => panic!("{other:?}"),
        }
        match found(Some(b)) {
            Lookup::NotProven { why, .. } => assert!(why.contains("no drill of backup"), "{why}"),
            other => panic!("{other:?}"),
        }
        match found(Some(c)) {
            Lookup::NotProven { why, .. } => assert!(why.contains("carry no runbook"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

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
