//! Reads the drill histories of a report folder (`drill.reports`): every drill folder under
//! it, or the folder itself when it holds reports, or the spec's drill. The schedule and
//! targets come from the spec when one is given, otherwise from the newest report that
//! records them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Integrity;
use crate::report::evidence::{self, Finding};
use crate::report::store::source::ReportSource;
use crate::report::store::{drill_folders, file_name as name_of, no_folder, read_report, reports};
use crate::report::DrillReport;
use crate::spec::DrillSpec;
use crate::spec::Schedule;
use crate::{Error, Result};

/// Where the schedule of a summary came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleSource {
    /// `drill.schedule` and `timezone` of the spec given.
    Spec,
    /// Recorded in the newest report that has one.
    Report,
}

/// One drill's reports, oldest first, with what the summary needs besides them.
#[derive(Debug, Clone)]
pub struct DrillHistory {
    pub drill: String,
    pub folder: PathBuf,
    /// (file name, report), oldest first.
    pub reports: Vec<(String, DrillReport)>,
    pub schedule: Option<(Schedule, ScheduleSource)>,
    pub rto_target: Option<f64>,
    pub rpo_target: Option<f64>,
    pub integrity: Integrity,
    /// The spec's `drill.monitored-since`; unset: the first report's start.
    pub monitored_since: Option<chrono::DateTime<chrono::Utc>>,
    /// The spec's backup sets kept now (`report SPEC` only), and its storage price.
    pub kept: Option<(Vec<super::storage::Copy>, Option<f64>)>,
}

impl DrillHistory {
    /// Takes schedule and targets from the spec (they win over what reports recorded).
    pub fn apply_spec(&mut self, spec: &DrillSpec) {
        self.schedule = spec
            .drill
            .schedule
            .clone()
            .map(|s| (s, ScheduleSource::Spec));
        self.rto_target = spec.targets.rto.map(|d| d.as_secs_f64());
        self.rpo_target = spec.targets.rpo.map(|d| d.as_secs_f64());
        self.monitored_since = spec.drill.monitored_since;
    }
}

fn read_drill(dir: &Path) -> Result<Option<DrillHistory>> {
    let files = reports(dir);
    if files.is_empty() {
        return Ok(None);
    }
    let (checked, findings) = evidence::verify(dir)?;
    let mut integrity = Integrity {
        checked,
        signed: dir.join(evidence::PUBLIC_KEY_FILE).exists(),
        problems: findings
            .into_iter()
            .map(|f| Finding {
                report: name_of(Path::new(&f.report)),
                problem: f.problem,
            })
            .collect(),
    };
    let mut reports = Vec::new();
    for path in &files {
        match read_report(path) {
            Ok(r) => reports.push((name_of(path), r)),
            Err(e) => integrity.problems.push(Finding {
                report: name_of(path),
                problem: format!("not a readable drill report: {e}"),
            }),
        }
    }
    reports.sort_by_key(|(_, r)| r.started_at);
    let newest_with =
        |f: &dyn Fn(&DrillReport) -> Option<f64>| reports.iter().rev().find_map(|(_, r)| f(r));
    let rto_target = newest_with(&|r| r.rto.as_ref().and_then(|x| x.target_seconds));
    let rpo_target = newest_with(&|r| r.rpo.as_ref().and_then(|x| x.target_seconds));
    let schedule = reports
        .iter()
        .rev()
        .find_map(|(_, r)| r.schedule.as_ref())
        .and_then(|s| Schedule::parse(&s.cron, &s.timezone).ok())
        .map(|s| (s, ScheduleSource::Report));
    let drill = reports
        .last()
        .map(|(_, r)| r.drill.clone())
        .unwrap_or_else(|| name_of(dir));
    Ok(Some(DrillHistory {
        drill,
        folder: dir.to_path_buf(),
        reports,
        schedule,
        rto_target,
        rpo_target,
        integrity,
        monitored_since: None,
        kept: None,
    }))
}

/// Reads the drill histories of `source`: with a spec, its drill's, with the spec's schedule
/// and targets.
///
/// # Errors
/// As [`load_folder`].
pub fn load(source: &ReportSource) -> Result<Vec<DrillHistory>> {
    let Some(spec) = &source.spec else {
        return load_folder(&source.root, None);
    };
    let mut histories = load_folder(&source.root, Some(&spec.name))?;
    histories.iter_mut().for_each(|h| h.apply_spec(spec));
    Ok(histories)
}

/// Reads every drill folder under `root` (or `root` itself when it holds reports); with
/// `only`, just that drill's folder.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] when the folder is missing or holds no drill reports.
pub fn load_folder(root: &Path, only: Option<&str>) -> Result<Vec<DrillHistory>> {
    if !root.is_dir() {
        return Err(no_folder(root));
    }
    let folders: Vec<PathBuf> = match only {
        Some(drill) => vec![root.join(drill)],
        None => drill_folders(root)?,
    };
    let mut out = Vec::new();
    for dir in folders {
        if let Some(h) = read_drill(&dir)? {
            out.push(h);
        }
    }
    if out.is_empty() {
        let place = match only {
            Some(d) => format!("`{}`", root.join(d).display()),
            None => format!("`{}`", root.display()),
        };
        return Err(Error::spec(format!("no drill reports in {place}"))
            .hint("run `firedrill drill SPEC` first, or point at the drill.reports folder"));
    }
    Ok(out)
}
