//! The restore runbook: how to recover a backup, step by step, as the drill that restored it
//! did it, with the time each step took there. Every drill report carries the runbook of the
//! backup it restored; a drill that passed has just proven it.
//!
//! Two paths: with firedrill (`drill --backup ID --keep` into a new database, then promote
//! it), and without firedrill, one shell script of plain tools (fetch, `sha256sum -c`, `age`,
//! `zstd`, `pg_restore`, `psql`) that holds no secret.
//!
//! - [`model`]: the serde model stored in the report (`runbook`, versioned);
//! - [`part`]: what a backup method contributes ([`crate::method::Method::runbook`]);
//! - [`build`](mod@build): the runbook of a drill when it ends;
//! - [`commands`]: the recovery with firedrill, as commands;
//! - [`script`]: the method-independent pieces of the script;
//! - [`markdown`], [`html`]: the "Runbook" section of reports;
//! - [`proven`]: `firedrill runbook`, the runbook of the newest drill that passed.

pub mod build;
pub mod commands;
pub mod html;
pub mod markdown;
pub mod model;
pub mod part;
pub mod proven;
pub mod script;

pub use build::{build, Drilled};
pub use model::Runbook;
pub use part::{Context, MethodPart, StepPlan};

/// The inputs of `rb` in words, one line each, with code spans: shared by the renderers.
pub(crate) fn inputs_lines(rb: &Runbook) -> Vec<String> {
    let i = &rb.inputs;
    let mut v = vec![format!(
        "Backup `{}` in `{}` ({}){}{}",
        rb.backup_id,
        i.destination,
        i.location,
        i.region
            .as_deref()
            .map(|r| format!(", region `{r}`"))
            .unwrap_or_default(),
        i.endpoint
            .as_deref()
            .map(|e| format!(", endpoint `{e}`"))
            .unwrap_or_default()
    )];
    if let Some(c) = &i.credentials {
        v.push(format!("Credentials: {c}"));
    }
    if let Some(s) = &i.snapshot {
        v.push(format!(
            "Snapshot `{}` in `{}` (`{}`)",
            s.id, s.region, s.arn
        ));
    }
    if let Some(k) = &i.key {
        v.push(format!("Key: {}", k.describe()));
    }
    if !i.recipients.is_empty() {
        let list: Vec<String> = i
            .recipients
            .iter()
            .map(|r| match &r.public_key {
                Some(k) => format!("`{k}` ({})", r.fingerprint),
                None => format!("{} (no longer in the spec)", r.fingerprint),
            })
            .collect();
        v.push(format!("Can decrypt: {}", list.join(", ")));
    }
    let secs = crate::report::drill::words::human_seconds;
    let target = |t: Option<f64>| t.map(secs).unwrap_or_else(|| "none".into());
    v.push(format!(
        "Targets: RTO {}, RPO {}",
        target(rb.targets.rto_seconds),
        target(rb.targets.rpo_seconds)
    ));
    if !rb.notify.is_empty() {
        let vars: Vec<String> = rb.notify.iter().map(|n| format!("`{n}`")).collect();
        v.push(format!(
            "Told: the webhooks whose URLs are in {}",
            vars.join(", ")
        ));
    }
    v
}
