//! The runbook as a Markdown section ("Runbook"), in drill reports and `firedrill runbook`.

use std::fmt::Write;

use super::super::words::{human_seconds as secs, human_time as at, md_cell as cell};
use super::model::Runbook;

/// Appends the "Runbook" section of `rb` to `o`.
pub fn section(o: &mut String, rb: &Runbook) {
    let _ = writeln!(o, "## Runbook\n");
    let _ = writeln!(o, "{}\n", proof_line(rb));
    let _ = writeln!(
        o,
        "### Steps\n\n| # | step | measured in this drill |\n|---:|---|---:|"
    );
    for (i, s) in rb.steps.iter().enumerate() {
        let took = s.seconds.map(secs).unwrap_or_else(|| "not reached".into());
        let _ = writeln!(
            o,
            "| {} | **{}**: {} | {took} |",
            i + 1,
            cell(&s.title),
            cell(&s.detail)
        );
    }
    let _ = writeln!(o, "\n### Tools\n");
    for t in &rb.tools {
        let _ = writeln!(o, "- {} {} ({})", t.name, t.version, t.role);
    }
    let _ = writeln!(o, "\n### Inputs\n");
    for line in super::inputs_lines(rb) {
        let _ = writeln!(o, "- {line}");
    }
    let _ = writeln!(o, "\n### With firedrill\n\n```sh");
    for c in &rb.with_firedrill {
        let _ = writeln!(o, "# {}\n{}", c.why, c.command);
    }
    let _ = writeln!(o, "```\n\n### Without firedrill\n");
    let _ = writeln!(
        o,
        "Plain tools only; run it with `TARGET_URL` set to an empty database (`firedrill runbook SPEC --script > restore.sh`).\n\n```bash\n{}```\n",
        rb.script
    );
}

/// Whether the drill that wrote `rb` proved it, and for which backup.
pub fn proof_line(rb: &Runbook) -> String {
    if rb.proven {
        format!(
            "Proven by the drill of {} for backup `{}` (recovery point {}).",
            at(rb.drilled_at),
            rb.backup_id,
            at(rb.recovery_point)
        )
    } else {
        format!(
            "**Not proven**: the drill of {} for backup `{}` did not pass. `firedrill runbook SPEC` prints the newest proven one.",
            at(rb.drilled_at),
            rb.backup_id
        )
    }
}
