//! The chain of a drill's reports: every report carries the SHA-256 of the report before it
//! (`previous_sha256`), so a removed, reordered or edited report breaks it. [`verify`] checks
//! the chain and, where the folder records a public key, every report's signature.

use std::path::Path;

use super::signing::{check_signature, recorded_key};
use super::{sha256_hex, Finding};
use crate::report::store::{drill_folders, reports};
use crate::Result;

/// Verifies every drill folder under `root` (or `root` itself when it holds reports):
/// returns how many reports were checked and what was found.
///
/// # Errors
/// When `root` cannot be read.
pub fn verify(root: &Path) -> Result<(usize, Vec<Finding>)> {
    let mut checked = 0;
    let mut findings = Vec::new();
    for dir in drill_folders(root)? {
        checked += verify_folder(&dir, &mut findings);
    }
    Ok((checked, findings))
}

/// Checks the chain and signatures of one drill folder; returns how many reports it holds.
fn verify_folder(dir: &Path, findings: &mut Vec<Finding>) -> usize {
    let key = recorded_key(dir);
    let mut previous: Option<String> = None;
    let files = reports(dir);
    for path in &files {
        let mut problem = |p: String| {
            findings.push(Finding {
                report: path.display().to_string(),
                problem: p,
            })
        };
        let Ok(bytes) = std::fs::read(path) else {
            problem("cannot be read".into());
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let claimed = v["previous_sha256"].as_str().map(str::to_string);
        if let Some(p) = chain_problem(claimed.as_deref(), previous.as_deref()) {
            problem(p.into());
        }
        if let Some(p) = key.as_ref().and_then(|k| check_signature(path, &bytes, k)) {
            problem(p);
        }
        previous = Some(sha256_hex(&bytes));
    }
    files.len()
}

/// What is wrong when a report names `claimed` as its predecessor and `previous` precedes it.
fn chain_problem(claimed: Option<&str>, previous: Option<&str>) -> Option<&'static str> {
    if claimed == previous {
        return None;
    }
    Some(match (claimed, previous) {
        (Some(_), None) => {
            "names a previous report, but none precedes it: the chain starts with a removed report"
        }
        (None, Some(_)) => "does not name the report before it: the chain is broken",
        _ => "the report before it is not the one it names: a report was removed or edited",
    })
}
