//! The "Runbook" section of a drill report: the model ([`model::Runbook`], stored in the
//! report's JSON) and its Markdown and HTML renderings. How a runbook is built and printed is
//! [`crate::runbook`]'s.

pub mod html;
pub mod markdown;
pub mod model;

use model::Runbook;

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
    let secs = super::words::human_seconds;
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
