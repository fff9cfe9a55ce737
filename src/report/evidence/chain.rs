//! The chain of a drill's reports: every report carries the SHA-256 of the report before it
//! (`previous_sha256`), so a removed, reordered or edited report breaks it. [`verify`] checks
//! the chain and, where the folder records a public key, every report's signature;
//! [`examine`] also says which reports a valid signature proves.

use std::path::{Path, PathBuf};

use super::signing::{check_signature, recorded_key};
use super::{sha256_hex, Finding};
use crate::report::store::{drill_folders, reports};
use crate::Result;

/// One report file the chain and signatures were checked for.
#[derive(Debug, Clone)]
pub struct Examined {
    pub path: PathBuf,
    pub signature: Signature,
}

/// What the signature of one report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// Its folder records no public key: the report is not signed.
    Absent,
    /// Valid for the public key its folder records.
    Valid,
    /// Missing, or not valid for the folder's public key (a finding says which).
    Broken,
}

/// What [`examine`] found: every report checked, and the problems.
#[derive(Debug, Default)]
pub struct Examination {
    pub reports: Vec<Examined>,
    pub findings: Vec<Finding>,
}

/// Verifies every drill folder under `root` (or `root` itself when it holds reports):
/// returns how many reports were checked and what was found.
///
/// # Errors
/// When `root` cannot be read.
pub fn verify(root: &Path) -> Result<(usize, Vec<Finding>)> {
    let e = examine(root)?;
    Ok((e.reports.len(), e.findings))
}

/// Like [`verify`], and says for every report what its signature shows.
///
/// # Errors
/// When `root` cannot be read.
pub fn examine(root: &Path) -> Result<Examination> {
    let mut out = Examination::default();
    for dir in drill_folders(root)? {
        examine_folder(&dir, &mut out);
    }
    Ok(out)
}

/// Checks the chain and signatures of one drill folder.
fn examine_folder(dir: &Path, out: &mut Examination) {
    let findings = &mut out.findings;
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
            out.reports.push(Examined {
                path: path.clone(),
                signature: if key.is_some() {
                    Signature::Broken
                } else {
                    Signature::Absent
                },
            });
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let claimed = v["previous_sha256"].as_str().map(str::to_string);
        if let Some(p) = chain_problem(claimed.as_deref(), previous.as_deref()) {
            problem(p.into());
        }
        let mut signature = Signature::Absent;
        if let Some(k) = &key {
            signature = match check_signature(path, &bytes, k) {
                Some(p) => {
                    problem(p);
                    Signature::Broken
                }
                None => Signature::Valid,
            };
        }
        previous = Some(sha256_hex(&bytes));
        out.reports.push(Examined {
            path: path.clone(),
            signature,
        });
    }
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
