//! The runbook as an HTML section ("Runbook"), in drill reports and `firedrill runbook`.

use std::fmt::Write;

use super::super::words::{esc, html_code_spans, human_seconds as secs};
use super::model::Runbook;

/// Appends the "Runbook" section of `rb` to `o`.
pub fn section(o: &mut String, rb: &Runbook) {
    let class = if rb.proven { "pass" } else { "fail" };
    let _ = write!(
        o,
        "<h2 id=\"runbook\">Runbook</h2><p class=\"{class}\">{}</p>",
        html_code_spans(&super::markdown::proof_line(rb).replace("**", ""))
    );
    o.push_str("<table id=\"runbook-steps\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">step</th><th scope=\"col\">measured in this drill</th></tr></thead><tbody>");
    for (i, s) in rb.steps.iter().enumerate() {
        let _ = write!(
            o,
            "<tr><td class=\"num\">{}</td><td><strong>{}</strong>: {}</td><td class=\"num\">{}</td></tr>",
            i + 1,
            esc(&s.title),
            html_code_spans(&s.detail),
            s.seconds.map(secs).unwrap_or_else(|| "not reached".into())
        );
    }
    o.push_str("</tbody></table><h3>Tools</h3><ul>");
    for t in &rb.tools {
        let _ = write!(
            o,
            "<li>{} {} ({})</li>",
            esc(&t.name),
            esc(&t.version),
            esc(&t.role)
        );
    }
    o.push_str("</ul><h3>Inputs</h3><ul>");
    for line in super::inputs_lines(rb) {
        let _ = write!(o, "<li>{}</li>", html_code_spans(&line));
    }
    o.push_str("</ul><h3>With firedrill</h3><pre id=\"runbook-with\"><code>");
    for c in &rb.with_firedrill {
        let _ = writeln!(o, "# {}\n{}", esc(&c.why), esc(&c.command));
    }
    let _ = write!(
        o,
        "</code></pre><h3>Without firedrill</h3><p>Plain tools only; run it with <code>TARGET_URL</code> set to an empty database (<code>firedrill runbook SPEC --script &gt; restore.sh</code>).</p><pre id=\"runbook-script\"><code>{}</code></pre>",
        esc(&rb.script)
    );
}
