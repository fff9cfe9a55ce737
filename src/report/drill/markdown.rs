//! Markdown rendering of a [`DrillReport`].

use std::fmt::Write;

use super::words::{
    human_seconds as secs, human_time as at, md_cell as cell, target_word as pass, verdict_word,
};
use super::DrillReport;
use crate::verify::NegativeControls;

/// Renders the report as Markdown.
pub fn render_markdown(r: &DrillReport) -> String {
    let mut o = String::new();
    let verdict = verdict_word(r.verdict);
    let _ = writeln!(o, "# Drill `{}`: {verdict}\n", r.drill);
    if let Some(reason) = &r.reason {
        let _ = writeln!(o, "> {}\n", reason.replace('\n', "\n> "));
    }
    let _ = writeln!(o, "- Started: {}", at(r.started_at));
    let _ = writeln!(o, "- Finished: {}", at(r.finished_at));
    let _ = writeln!(
        o,
        "- Host: {}; trigger: {} by {}",
        r.host, r.trigger.kind, r.trigger.user
    );
    let _ = writeln!(
        o,
        "- firedrill {} (report format {})",
        r.tool_version, r.format_version
    );
    if let Some(holder) = &r.lease_takeover {
        let _ = writeln!(
            o,
            "- Took over the expired drill lease of `{holder}` (a run that died)"
        );
    }
    o.push('\n');

    if let Some(b) = &r.backup {
        let _ = writeln!(o, "## Backup\n");
        let _ = writeln!(o, "- Backup id: `{}`", b.id);
        let _ = writeln!(o, "- Read from: `{}` ({})", b.destination, b.location);
        let _ = writeln!(o, "- Recovery point (snapshot): {}", at(b.snapshot_at));
        let _ = writeln!(
            o,
            "- Source: {} / {} (PostgreSQL {})",
            b.source.host, b.source.database, b.source.server_version
        );
        for obj in &b.objects {
            let _ = writeln!(
                o,
                "- Object `{}`: {} bytes, sha256 `{}`",
                obj.name, obj.size, obj.sha256
            );
        }
        o.push('\n');
    }
    if let Some(s) = &r.scratch {
        let _ = writeln!(
            o,
            "## Scratch target\n\n- {} at `{}`, database `{}`, PostgreSQL {}\n",
            s.kind, s.location, s.database, s.server_version
        );
        if let Some(rec) = &s.recovery {
            let _ = writeln!(o, "- Point-in-time recovery: {}\n", rec.describe());
        }
        if let Some(w) = &s.warning {
            let _ = writeln!(o, "- **Warning**: {w}\n");
        }
    }
    if let Some(rto) = &r.rto {
        let _ = writeln!(o, "## RTO: {} ({})\n", secs(rto.seconds), pass(rto.pass));
        if let Some(t) = rto.target_seconds {
            let _ = writeln!(o, "Target: {}\n", secs(t));
        }
        let _ = writeln!(o, "| phase | seconds |\n|---|---:|");
        for p in &rto.phases {
            let _ = writeln!(o, "| {} | {:.2} |", cell(&p.name), p.seconds);
        }
        o.push('\n');
    }
    if let Some(rpo) = &r.rpo {
        let _ = writeln!(o, "## RPO: {} ({})\n", secs(rpo.seconds), pass(rpo.pass));
        let _ = writeln!(o, "- Recovery point: {}", at(rpo.recovery_point));
        let _ = writeln!(
            o,
            "- Simulated disaster (drill start): {}",
            at(rpo.disaster_at)
        );
        if let Some(t) = rpo.target_seconds {
            let _ = writeln!(o, "- Target: {}", secs(t));
        }
        if let Some(g) = rpo.worst_gap_30d_seconds {
            let _ = writeln!(o, "- Worst gap between backups, last 30 days: {}", secs(g));
        }
        if let Some(h) = &rpo.heartbeat {
            let _ = writeln!(o, "- Heartbeat: {}", h.line());
        }
        o.push('\n');
    }
    if !r.checks.is_empty() {
        let _ = writeln!(o, "## Checks\n\n| check | kind | expected | actual | result | seconds |\n|---|---|---|---|---|---:|");
        for c in &r.checks {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {:.2} |",
                cell(&c.name),
                c.kind,
                cell(&c.expected),
                cell(&c.actual),
                if c.pass { "pass" } else { "FAIL" },
                c.seconds
            );
        }
        for c in r.checks.iter().filter(|c| !c.details.is_empty()) {
            let _ = writeln!(o, "\n`{}`:", c.name);
            for d in &c.details {
                let _ = writeln!(o, "- {}", d);
            }
        }
        o.push('\n');
    }
    if let Some(n) = &r.negative_controls {
        negative_controls(&mut o, n);
    }
    if let Some(c) = &r.cost {
        super::cost::markdown(&mut o, c);
    }
    if let Some(rb) = &r.runbook {
        super::runbook::markdown::section(&mut o, rb);
    }
    if let Some(c) = &r.cleanup {
        let state = if c.kept {
            "kept running (--keep)"
        } else if c.removed {
            "removed"
        } else {
            "NOT removed"
        };
        let _ = writeln!(o, "## Cleanup\n\n- Scratch target {state}. {}", c.detail);
    }
    o
}

/// The faults injected after the checks and what caught each.
fn negative_controls(o: &mut String, n: &NegativeControls) {
    let _ = writeln!(
        o,
        "## Negative controls\n\nKnown faults injected after the checks (rolled back, or in memory), each of which must be caught; {} (not part of the RTO).\n",
        secs(n.seconds)
    );
    let _ = writeln!(
        o,
        "| control | check | injected fault | caught by | result |\n|---|---|---|---|---|"
    );
    for c in &n.controls {
        let by = c.caught_by.as_deref().or(c.detail.as_deref()).unwrap_or("");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            c.control,
            cell(c.check.as_deref().unwrap_or("")),
            cell(&c.fault),
            cell(by),
            c.status.label()
        );
    }
    o.push('\n');
}
