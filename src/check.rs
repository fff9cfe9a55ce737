//! `firedrill check`: the spec is valid (it loaded), then, unless offline, the method's
//! preflight: source, tools, scratch server, destinations and keys, each confirmed or named
//! with the fix. Nothing is changed anywhere (destination probes remove what they write).

use serde::Serialize;

use std::path::Path;

use crate::method::{self, CheckItem};
use crate::spec::DrillSpec;
use crate::Error;

/// What `check` confirmed.
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    pub checks: Vec<CheckItem>,
    /// True when every item is.
    pub ok: bool,
}

/// Checks `spec`, offline (the spec only) or against everything it names.
pub async fn run(spec: &DrillSpec, offline: bool) -> CheckOutcome {
    let mut checks = vec![CheckItem {
        what: "spec".into(),
        ok: true,
        detail: format!("`{}` is valid", spec.path.display()),
        warning: false,
    }];
    if !offline {
        checks.extend(method::of(spec).preflight(spec).await);
        if spec.heartbeat.is_some() {
            checks.push(CheckItem::from_result(
                "heartbeat",
                crate::heartbeat::fresh::check(spec).await,
            ));
        }
        if let Some(path) = &spec.metrics_textfile {
            checks.push(CheckItem::from_result(
                "metrics textfile",
                textfile_folder(path),
            ));
        }
    }
    CheckOutcome {
        ok: checks.iter().all(|i| i.ok),
        checks,
    }
}

/// The metrics textfile's folder exists and firedrill can write there (a probe file, removed).
/// firedrill creates no folder for it: it is the collector's.
fn textfile_folder(path: &Path) -> crate::Result<String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::preflight(format!(
            "the folder `{}` of metrics.textfile does not exist",
            dir.display()
        ))
        .hint("point metrics.textfile into the textfile collector's folder (node_exporter --collector.textfile.directory), or create that folder"));
    }
    let probe = dir.join(format!(
        ".firedrill-probe-{}-{}",
        std::process::id(),
        crate::catalog::layout::random_hex(4)
    ));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            Error::preflight(format!("cannot write into `{}`: {e}", dir.display()))
                .hint("let firedrill's user write into that folder, or fix metrics.textfile")
        })?;
    Ok(format!("`{}` can be written", path.display()))
}
