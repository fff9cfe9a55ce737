//! `report verify`: what the tamper evidence proves about the reports of a
//! [`ReportSource`]: the chain and signatures of every report and, with a spec, the backup
//! objects the reports cite and (reading the local folder) the copies mirrored in the spec's
//! destinations.

use serde::Serialize;

use super::evidence::cited::{verify_cited, CitedCheck};
use super::evidence::{self, Finding};
use super::store::mirror::{self, MirrorCheck};
use super::store::no_folder;
use super::store::source::ReportSource;
use crate::{storage, Exit, Result};

/// The outcome of `report verify`.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// Reports whose chain and signature were checked.
    pub checked: usize,
    /// Distinct cited backup objects read and hashed.
    pub objects_checked: usize,
    /// Tampering or damage: a report edited, signed with another key or removed (from the
    /// chain or, as the mirrors show, from the folder); a cited object altered, or missing
    /// while its backup set is still there.
    pub findings: Vec<Finding>,
    /// Backup sets removed by retention (not tampering).
    pub pruned: Vec<Finding>,
    /// Citations that could not be checked (a destination the spec no longer has).
    pub unchecked: Vec<Finding>,
    /// Reports a destination lacks (not tampering, but said).
    pub unmirrored: Vec<Finding>,
    /// The cited objects were checked (a spec was given).
    #[serde(skip)]
    pub cited_checked: bool,
}

impl Verification {
    /// No findings: every report is as it was written.
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// Passed when intact, failed with findings.
    pub fn exit_code(&self) -> Exit {
        if self.intact() {
            Exit::Pass
        } else {
            Exit::Failed
        }
    }

    /// JSON rendering (pretty, keys in alphabetical order, newline-terminated).
    pub fn render_json(&self) -> String {
        // Through a `Value`, whose maps sort their keys: the order `--json` has always had.
        let value = serde_json::to_value(self).expect("verification serialises");
        let mut s = serde_json::to_string_pretty(&value).expect("verification serialises");
        s.push('\n');
        s
    }

    /// Text rendering: one line per finding, then the verdict.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        for (word, list) in [
            ("TAMPERED", &self.findings),
            ("PRUNED", &self.pruned),
            ("UNCHECKED", &self.unchecked),
            ("UNMIRRORED", &self.unmirrored),
        ] {
            for f in list {
                o.push_str(&format!("{word} {}: {}\n", f.report, f.problem));
            }
        }
        let objects = if self.cited_checked {
            format!(", {} cited objects hashed", self.objects_checked)
        } else {
            String::new()
        };
        let checked = self.checked;
        if self.intact() {
            let what = if self.cited_checked {
                "signatures, chain and cited objects intact"
            } else {
                "signatures and chain intact"
            };
            o.push_str(&format!("{checked} reports verified{objects}: {what}.\n"));
        } else {
            let problems = self.findings.len();
            o.push_str(&format!(
                "{checked} reports checked{objects}, {problems} problems.\n"
            ));
        }
        o
    }
}

/// Verifies the reports of `source`.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] when the report folder does not exist; when a folder or a
/// destination cannot be read.
pub async fn verify(source: &ReportSource) -> Result<Verification> {
    let dir = source.drill_folder();
    if !dir.is_dir() {
        return Err(no_folder(&dir));
    }
    let (checked, mut findings) = evidence::verify(&dir)?;
    let cited = match &source.spec {
        Some(s) => verify_cited(&dir, s).await?,
        None => CitedCheck::default(),
    };
    findings.extend(cited.findings);
    // The local folder against the mirrors in the destinations (not when reading a mirror).
    let mirrors = match (&source.spec, &source.from) {
        (Some(s), None) => {
            let dests = storage::open_all(&s.destinations).await?;
            mirror::compare(&dests, &s.name, &dir).await?
        }
        _ => MirrorCheck::default(),
    };
    findings.extend(mirrors.missing);
    Ok(Verification {
        checked,
        objects_checked: cited.objects_checked,
        findings,
        pruned: cited.pruned,
        unchecked: cited.unchecked,
        unmirrored: mirrors.unmirrored,
        cited_checked: source.spec.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(report: &str, problem: &str) -> Finding {
        Finding {
            report: report.into(),
            problem: problem.into(),
        }
    }

    #[test]
    fn json_keys_sorted_and_text_lines_by_kind() {
        let v = Verification {
            checked: 2,
            objects_checked: 1,
            findings: vec![finding("a.json", "edited")],
            pruned: vec![finding("b.json", "gone")],
            unchecked: vec![],
            unmirrored: vec![finding("b.json", "not mirrored")],
            cited_checked: true,
        };
        assert_eq!(
            v.render_json(),
            "{\n  \"checked\": 2,\n  \"findings\": [\n    {\n      \"problem\": \"edited\",\n      \"report\": \"a.json\"\n    }\n  ],\n  \"objects_checked\": 1,\n  \"pruned\": [\n    {\n      \"problem\": \"gone\",\n      \"report\": \"b.json\"\n    }\n  ],\n  \"unchecked\": [],\n  \"unmirrored\": [\n    {\n      \"problem\": \"not mirrored\",\n      \"report\": \"b.json\"\n    }\n  ]\n}\n"
        );
        assert_eq!(
            v.render_text(),
            "TAMPERED a.json: edited\nPRUNED b.json: gone\nUNMIRRORED b.json: not mirrored\n\
             2 reports checked, 1 cited objects hashed, 1 problems.\n"
        );
        assert_eq!(v.exit_code(), 1);
        let intact = Verification {
            findings: vec![],
            cited_checked: false,
            ..v
        };
        assert!(intact
            .render_text()
            .ends_with("\n2 reports verified: signatures and chain intact.\n"));
        assert_eq!(intact.exit_code(), 0);
    }
}
