//! Which audit controls the summary gives evidence for, and where that evidence falls short.
//! The wording of each control is a short paraphrase; the status says whether the summary
//! holds the evidence, not whether an auditor will accept it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::DrillSummary;

/// One control and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    pub framework: String,
    pub id: String,
    /// The requirement, in short.
    pub requirement: String,
    /// Which parts of the summary are the evidence.
    pub evidence: String,
    /// `evidence present` or `gaps`.
    pub status: String,
    /// What is missing, per drill.
    pub gaps: Vec<String>,
}

type GapFn = fn(&DrillSummary, DateTime<Utc>) -> Vec<String>;

fn no_pass(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    if d.counts.passed == 0 {
        vec![format!("`{}`: no passed drill in the period", d.drill)]
    } else {
        Vec::new()
    }
}

fn missed(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    match d.counts.missed {
        Some(n) if n > 0 => vec![format!("`{}`: {n} scheduled drills missed", d.drill)],
        None => vec![format!(
            "`{}`: no drill schedule, so regular testing cannot be shown",
            d.drill
        )],
        _ => Vec::new(),
    }
}

fn targets(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    let mut v = Vec::new();
    if d.rto.target_seconds.is_none() || d.rpo.target_seconds.is_none() {
        v.push(format!("`{}`: RTO or RPO target not declared", d.drill));
    }
    for (name, t) in [("RTO", &d.rto), ("RPO", &d.rpo)] {
        if t.over_target > 0 {
            v.push(format!(
                "`{}`: {} drills over the {name} target",
                d.drill, t.over_target
            ));
        }
    }
    v
}

fn integrity(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    let mut v = Vec::new();
    if !d.integrity.problems.is_empty() {
        v.push(format!(
            "`{}`: {} tamper-evidence problems",
            d.drill,
            d.integrity.problems.len()
        ));
    }
    if !d.integrity.signed {
        v.push(format!("`{}`: reports are not signed", d.drill));
    }
    v
}

fn within_12_months(d: &DrillSummary, until: DateTime<Utc>) -> Vec<String> {
    match d.last_passed_at {
        Some(t) if until - t <= chrono::Duration::days(365) => Vec::new(),
        Some(t) => vec![format!(
            "`{}`: newest passed drill {} is older than 12 months",
            d.drill,
            t.format("%Y-%m-%d")
        )],
        None => vec![format!("`{}`: no passed drill on record", d.drill)],
    }
}

fn no_verified(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    if d.newest_verified.is_empty() {
        vec![format!(
            "`{}`: no backup verified by a passed drill",
            d.drill
        )]
    } else {
        Vec::new()
    }
}

fn failures(d: &DrillSummary, _: DateTime<Utc>) -> Vec<String> {
    if d.failures.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "`{}`: {} drills did not pass (see failures)",
            d.drill,
            d.failures.len()
        )]
    }
}

struct Def {
    framework: &'static str,
    id: &'static str,
    requirement: &'static str,
    evidence: &'static str,
    gaps: &'static [GapFn],
}

const CONTROLS: &[Def] = &[
    Def {
        framework: "SOC 2",
        id: "A1.3",
        requirement: "Recovery plan procedures supporting system recovery are tested to help meet recovery objectives.",
        evidence: "Drills scheduled, run and passed; missed drills; failures with reasons; RTO and RPO against their targets (charts); signed, chained drill reports; the newest restore runbook a passed drill proved per database (recovery procedures documented and tested).",
        gaps: &[no_pass, missed, targets, integrity, super::runbooks::gap],
    },
    Def {
        framework: "ISO/IEC 27001:2022",
        id: "A.8.13",
        requirement: "Backup copies of information, software and systems are kept and regularly tested in line with the backup policy.",
        evidence: "Newest verified backup per database; drills scheduled against run; missed drills; cited backup objects (`firedrill report verify SPEC`).",
        gaps: &[no_verified, missed],
    },
    Def {
        framework: "PCI DSS v4.0",
        id: "12.10.2",
        requirement: "The incident response plan, including business recovery and data backup processes, is reviewed and tested at least once every 12 months.",
        evidence: "Date of the newest passed drill per drill (must be within 12 months of the period end); the drill reports themselves.",
        gaps: &[within_12_months],
    },
    Def {
        framework: "HIPAA",
        id: "164.308(a)(7)(ii)(A)",
        requirement: "Data backup plan: create and maintain retrievable exact copies of electronic protected health information.",
        evidence: "Newest verified backup per database (restored and checked, with its recovery point); cited backup objects and their SHA-256.",
        gaps: &[no_verified],
    },
    Def {
        framework: "HIPAA",
        id: "164.308(a)(7)(ii)(D)",
        requirement: "Testing and revision procedures: periodically test and revise contingency plans.",
        evidence: "Drills run on schedule, missed drills, failures with reasons, RTO forecast.",
        gaps: &[missed, failures],
    },
];

/// The control table for `drills` as of `until`.
pub fn controls(drills: &[DrillSummary], until: DateTime<Utc>) -> Vec<Control> {
    CONTROLS
        .iter()
        .map(|c| {
            let gaps: Vec<String> = drills
                .iter()
                .flat_map(|d| c.gaps.iter().flat_map(move |g| g(d, until)))
                .collect();
            Control {
                framework: c.framework.into(),
                id: c.id.into(),
                requirement: c.requirement.into(),
                evidence: c.evidence.into(),
                status: if gaps.is_empty() {
                    "evidence present".into()
                } else {
                    "gaps".into()
                },
                gaps,
            }
        })
        .collect()
}
