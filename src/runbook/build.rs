//! The runbook of a drill, built when it ends: the method's part (steps, tools, key, script)
//! with the durations this drill measured, where the copy it read lives, the commands with
//! firedrill, who is told and the targets.

use chrono::{DateTime, Utc};

use super::commands::with_firedrill;
use super::model::{Inputs, Runbook, Step, Targets, Tool, VERSION};
use super::part::{Context, MethodPart};
use crate::catalog::BackupSet;
use crate::measure::Phase;
use crate::spec::{DestinationKind, DestinationSpec, DrillSpec};

/// What a drill knows when it ends, for its runbook.
pub struct Drilled<'a> {
    pub spec: &'a DrillSpec,
    /// The backup restored.
    pub set: &'a BackupSet,
    /// The name of the destination (or repository) it was read from.
    pub read_from: &'a str,
    /// The phases this drill measured.
    pub phases: &'a [Phase],
    pub scratch_version: Option<&'a str>,
    pub started_at: DateTime<Utc>,
    pub passed: bool,
}

/// The runbook of the backup `d` restored, with the method's part from `part_of` (the
/// drill's [`crate::method::Method::runbook`]); `None` when the method writes none.
pub fn build(
    d: &Drilled<'_>,
    part_of: &dyn Fn(&Context<'_>) -> Option<MethodPart>,
) -> Option<Runbook> {
    let dest = d.spec.destination(d.read_from);
    let ctx = Context {
        spec: d.spec,
        set: d.set,
        dest,
        scratch_version: d.scratch_version,
    };
    let part = part_of(&ctx)?;
    let m = &d.set.manifest;
    Some(Runbook {
        version: VERSION,
        drill: d.spec.name.clone(),
        backup_id: d.set.id.clone(),
        method: m.method.kind.clone(),
        recovery_point: m.snapshot_at,
        drilled_at: d.started_at,
        proven: d.passed,
        steps: steps(&part, d.phases),
        tools: tools(&part),
        inputs: inputs(d.read_from, dest, &part),
        with_firedrill: part
            .with_firedrill
            .clone()
            .unwrap_or_else(|| with_firedrill(d.spec, &d.set.id, d.read_from, &m.source.database)),
        script: part.script.clone(),
        notify: d.spec.webhooks.iter().map(|w| w.url_env.clone()).collect(),
        targets: Targets {
            rto_seconds: d.spec.targets.rto.map(|t| t.as_secs_f64()),
            rpo_seconds: d.spec.targets.rpo.map(|t| t.as_secs_f64()),
        },
    })
}

/// The method's steps, each with the sum of its phases in this drill (none when the drill
/// did not reach any of them).
fn steps(part: &MethodPart, phases: &[Phase]) -> Vec<Step> {
    part.steps
        .iter()
        .map(|s| {
            let measured: Vec<f64> = phases
                .iter()
                .filter(|p| s.phases.contains(&p.name.as_str()))
                .map(|p| p.seconds)
                .collect();
            Step {
                title: s.title.to_string(),
                detail: s.detail.clone(),
                phases: s.phases.iter().map(|p| p.to_string()).collect(),
                seconds: (!measured.is_empty()).then(|| measured.iter().sum()),
            }
        })
        .collect()
}

/// firedrill itself, then the method's tools.
fn tools(part: &MethodPart) -> Vec<Tool> {
    let mut v = vec![Tool {
        name: "firedrill".into(),
        version: crate::VERSION.into(),
        role: "ran this drill".into(),
    }];
    v.extend(part.tools.iter().cloned());
    v
}

fn inputs(read_from: &str, dest: Option<&DestinationSpec>, part: &MethodPart) -> Inputs {
    let (location, region, endpoint, dest_credentials) = match dest.map(|d| &d.kind) {
        Some(DestinationKind::Folder(f)) => (format!("file://{}", f.path), None, None, None),
        Some(DestinationKind::S3(s)) => (
            s.url(),
            Some(s.region.clone()),
            s.endpoint.clone(),
            Some(
                "the AWS default chain: AWS_* environment variables, a profile, SSO, web identity or the instance role"
                    .to_string(),
            ),
        ),
        None => (read_from.to_string(), None, None, None),
    };
    Inputs {
        destination: read_from.to_string(),
        location,
        region,
        endpoint,
        credentials: part.credentials.clone().or(dest_credentials),
        key: part.key.clone(),
        recipients: part.recipients.clone(),
        snapshot: part.snapshot.clone(),
    }
}
