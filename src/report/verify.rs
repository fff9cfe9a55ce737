//! `report verify`: what the tamper evidence proves about the reports of a
//! [`ReportSource`]: the chain and signatures of every report and, with a spec, the backup
//! objects the reports cite and the copies mirrored in the spec's destinations, compared by
//! content (reading a mirror with `--from`, the other destinations' copies). Every report
//! gets its [`Proof`]; a report nothing proves fails the check like a tampered one.

use serde::Serialize;

use super::evidence::chain::{examine, Examined};
use super::evidence::cited::{verify_cited, CitedCheck};
use super::evidence::proof::{Mirrors, Proof};
use super::evidence::Finding;
use super::store::mirror::{self, MirrorCheck};
use super::store::source::ReportSource;
use super::store::{file_name, no_folder};
use crate::{storage, Exit, Result};

/// The outcome of `report verify`.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// Reports whose chain and signature were checked.
    pub checked: usize,
    /// Every report with what proves it is as it was written.
    pub reports: Vec<ReportProof>,
    /// Distinct cited backup objects read and hashed.
    pub objects_checked: usize,
    /// Tampering or damage: a report edited (its signature, or its bytes against a mirrored
    /// copy), signed with another key or removed (from the chain or, as the mirrors show,
    /// from the folder); a cited object altered, or missing while its backup set is still
    /// there.
    pub findings: Vec<Finding>,
    /// Reports nothing proves (not signed, no matching mirrored copy), and why.
    pub unproven: Vec<Finding>,
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

/// One report and its proof.
#[derive(Debug, Clone, Serialize)]
pub struct ReportProof {
    pub report: String,
    pub proof: Proof,
}

impl Verification {
    /// No findings: nothing shows a report, a mirrored copy or a cited object was changed.
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// Intact, and every report proven by a signature or matching mirrors.
    pub fn proven(&self) -> bool {
        self.intact() && self.unproven.is_empty()
    }

    /// How many reports have `proof`.
    pub fn count(&self, proof: Proof) -> usize {
        self.reports.iter().filter(|r| r.proof == proof).count()
    }

    /// Passed when intact and every report proven, failed otherwise.
    pub fn exit_code(&self) -> Exit {
        if self.proven() {
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

    /// Text rendering: one line per finding, the proofs in one line, then the verdict,
    /// which claims only what was checked.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        for (word, list) in [
            ("TAMPERED", &self.findings),
            ("PRUNED", &self.pruned),
            ("UNCHECKED", &self.unchecked),
            ("UNMIRRORED", &self.unmirrored),
            ("UNPROVEN", &self.unproven),
        ] {
            for f in list {
                o.push_str(&format!("{word} {}: {}\n", f.report, f.problem));
            }
        }
        let (signed, mirrored, unproven) = (
            self.count(Proof::Signed),
            self.count(Proof::Mirrored),
            self.count(Proof::Unproven),
        );
        o.push_str(&format!(
            "{} reports: {signed} proven by signature, {mirrored} by matching mirrors, {unproven} unproven.\n",
            self.checked
        ));
        if !self.proven() {
            o.push_str(&format!(
                "{} problems, {} reports unproven.\n",
                self.findings.len(),
                self.unproven.len()
            ));
            return o;
        }
        let mut held = vec!["chain intact".to_string()];
        if signed > 0 {
            held.push("signatures valid".into());
        }
        if mirrored > 0 {
            held.push(
                "mirrors match (weaker than a signature unless the destinations use Object Lock)"
                    .into(),
            );
        }
        if self.cited_checked {
            held.push(format!(
                "{} cited objects hashed and intact",
                self.objects_checked
            ));
        }
        o.push_str(&format!("Verified: {}.\n", held.join(", ")));
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
    let examined = examine(&dir)?;
    let mut findings = examined.findings;
    let cited = match &source.spec {
        Some(s) => verify_cited(&dir, s).await?,
        None => CitedCheck::default(),
    };
    findings.extend(cited.findings);
    // The reports read against the copies mirrored in the (other) destinations.
    let mirrors = match &source.spec {
        Some(s) => {
            let others: Vec<_> = s
                .destinations
                .iter()
                .filter(|d| Some(&d.name) != source.from.as_ref())
                .cloned()
                .collect();
            let dests = storage::open_all(&others).await?;
            let what = match &source.from {
                Some(from) => format!("the copy read from destination `{from}`"),
                None => "the report folder".to_string(),
            };
            Some(mirror::compare(&dests, &s.name, &dir, &what).await?)
        }
        None => None,
    };
    let (proofs, unproven) = proofs(&examined.reports, mirrors.as_ref());
    let mirrors = mirrors.unwrap_or_default();
    findings.extend(mirrors.findings);
    Ok(Verification {
        checked: examined.reports.len(),
        reports: proofs,
        objects_checked: cited.objects_checked,
        findings,
        unproven,
        pruned: cited.pruned,
        unchecked: cited.unchecked,
        unmirrored: mirrors.unmirrored,
        cited_checked: source.spec.is_some(),
    })
}

/// The proof of every report, and why each unproven one is.
fn proofs(reports: &[Examined], mirrors: Option<&MirrorCheck>) -> (Vec<ReportProof>, Vec<Finding>) {
    let mut proofs = Vec::new();
    let mut unproven = Vec::new();
    for r in reports {
        let seen = mirrors.map_or(Mirrors::NotCompared, |m| m.of(&file_name(&r.path)));
        let report = r.path.display().to_string();
        if let Some(problem) = Proof::why_unproven(r.signature, seen) {
            unproven.push(Finding {
                report: report.clone(),
                problem,
            });
        }
        proofs.push(ReportProof {
            report,
            proof: Proof::of(r.signature, seen),
        });
    }
    (proofs, unproven)
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

    fn proof(report: &str, proof: Proof) -> ReportProof {
        ReportProof {
            report: report.into(),
            proof,
        }
    }

    #[test]
    fn json_keys_sorted_and_text_lines_by_kind() {
        let v = Verification {
            checked: 2,
            reports: vec![
                proof("a.json", Proof::Unproven),
                proof("b.json", Proof::Signed),
            ],
            objects_checked: 1,
            findings: vec![finding("a.json", "edited")],
            unproven: vec![finding("a.json", "its signature does not hold")],
            pruned: vec![finding("b.json", "gone")],
            unchecked: vec![],
            unmirrored: vec![finding("b.json", "not mirrored")],
            cited_checked: true,
        };
        assert_eq!(
            v.render_json(),
            "{\n  \"checked\": 2,\n  \"findings\": [\n    {\n      \"problem\": \"edited\",\n      \"report\": \"a.json\"\n    }\n  ],\n  \"objects_checked\": 1,\n  \"pruned\": [\n    {\n      \"problem\": \"gone\",\n      \"report\": \"b.json\"\n    }\n  ],\n  \"reports\": [\n    {\n      \"proof\": \"unproven\",\n      \"report\": \"a.json\"\n    },\n    {\n      \"proof\": \"signed\",\n      \"report\": \"b.json\"\n    }\n  ],\n  \"unchecked\": [],\n  \"unmirrored\": [\n    {\n      \"problem\": \"not mirrored\",\n      \"report\": \"b.json\"\n    }\n  ],\n  \"unproven\": [\n    {\n      \"problem\": \"its signature does not hold\",\n      \"report\": \"a.json\"\n    }\n  ]\n}\n"
        );
        assert_eq!(
            v.render_text(),
            "TAMPERED a.json: edited\nPRUNED b.json: gone\nUNMIRRORED b.json: not mirrored\n\
             UNPROVEN a.json: its signature does not hold\n\
             2 reports: 1 proven by signature, 0 by matching mirrors, 1 unproven.\n\
             1 problems, 1 reports unproven.\n"
        );
        assert_eq!(v.exit_code(), 1);
    }

    /// The verdict claims only what was checked: no signatures where none were verified.
    #[test]
    fn the_verdict_names_only_the_proofs_that_held() {
        let signed = Verification {
            checked: 2,
            reports: vec![
                proof("a.json", Proof::Signed),
                proof("b.json", Proof::Signed),
            ],
            objects_checked: 0,
            findings: vec![],
            unproven: vec![],
            pruned: vec![],
            unchecked: vec![],
            unmirrored: vec![],
            cited_checked: false,
        };
        assert_eq!(
            signed.render_text(),
            "2 reports: 2 proven by signature, 0 by matching mirrors, 0 unproven.\n\
             Verified: chain intact, signatures valid.\n"
        );
        assert_eq!(signed.exit_code(), 0);
        let mirrored = Verification {
            reports: vec![
                proof("a.json", Proof::Mirrored),
                proof("b.json", Proof::Mirrored),
            ],
            objects_checked: 1,
            cited_checked: true,
            ..signed
        };
        let text = mirrored.render_text();
        assert!(!text.contains("signatures"), "{text}");
        assert!(
            text.ends_with(
                "2 reports: 0 proven by signature, 2 by matching mirrors, 0 unproven.\n\
                 Verified: chain intact, mirrors match (weaker than a signature unless the \
                 destinations use Object Lock), 1 cited objects hashed and intact.\n"
            ),
            "{text}"
        );
        assert_eq!(mirrored.exit_code(), 0);
        // Unsigned and not compared: unproven, exit 1, however intact the chain.
        let unproven = Verification {
            reports: vec![proof("a.json", Proof::Unproven)],
            checked: 1,
            unproven: vec![finding("a.json", "not signed")],
            ..mirrored
        };
        assert!(!unproven.render_text().contains("Verified"));
        assert_eq!(unproven.exit_code(), 1);
    }
}
