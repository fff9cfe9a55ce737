//! Self-contained HTML rendering of a [`Summary`]: inline CSS, inline SVG trend charts, no
//! scripts or external assets; results spelled out in words so the page reads without colour.

use std::fmt::Write;

use super::chart::trend_svg;
use super::{opt_count as n, when, DrillSummary, Summary};
use crate::report::drill::html::{esc, STYLE};
use crate::report::drill::words::{human_seconds as secs, verdict_word};

/// Escapes `s` and shows its `code` spans as `<code>`.
fn ticks(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

fn trend_section(o: &mut String, id: &str, name: &str, d: &DrillSummary, s: &Summary) {
    let t = if name == "RTO" { &d.rto } else { &d.rpo };
    let _ = write!(
        o,
        "<h3>{name}</h3><p>Target {}; latest {}; worst {}; <strong>{} of {}</strong> drills over the target.</p>",
        t.target_seconds.map(secs).unwrap_or_else(|| "none".into()),
        t.latest_seconds.map(secs).unwrap_or_else(|| "—".into()),
        t.worst_seconds.map(secs).unwrap_or_else(|| "—".into()),
        t.over_target,
        t.points.len()
    );
    if !t.points.is_empty() {
        o.push_str(&trend_svg(
            id,
            &format!("{name} of each drill of {} over the period", esc(&d.drill)),
            t,
            s.period.start,
            s.period.end,
        ));
    }
}

fn drill(o: &mut String, d: &DrillSummary, index: usize, s: &Summary) {
    let _ = write!(
        o,
        "<section class=\"drill\"><h2>Drill <code>{}</code></h2>",
        esc(&d.drill)
    );
    match &d.schedule {
        Some(sch) => {
            let _ = write!(
                o,
                "<p>Schedule: <code>{}</code> in {} (from the {}).</p>",
                esc(&sch.cron),
                esc(&sch.timezone),
                match sch.source {
                    super::ScheduleSource::Spec => "spec",
                    super::ScheduleSource::Report => "newest report",
                }
            );
        }
        None => o.push_str(
            "<p>Schedule: none recorded; scheduled and missed drills are not counted.</p>",
        ),
    }
    if let Some(m) = d.monitored_since {
        let _ = write!(
            o,
            "<p>Monitoring began {} (the first drill report, or the spec's drill.monitored-since): slots before it are not counted.</p>",
            esc(&super::when(m))
        );
    }
    if let Some(t) = &d.cost {
        let _ = write!(
            o,
            "<p>Cost of the period's drills: {}.</p>",
            esc(&t.describe())
        );
    }
    let c = &d.counts;
    let _ = write!(
        o,
        "<table class=\"counts\"><thead><tr><th scope=\"col\">scheduled</th><th scope=\"col\">on schedule</th><th scope=\"col\">missed</th><th scope=\"col\">pending</th><th scope=\"col\">run</th><th scope=\"col\">passed</th><th scope=\"col\">failed</th><th scope=\"col\">could not run</th><th scope=\"col\">aborted</th></tr></thead>\
         <tbody><tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num missed\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr></tbody></table>",
        n(c.scheduled), n(c.on_schedule), n(c.missed), n(c.pending), c.run, c.passed, c.failed, c.error, c.aborted
    );
    if !d.missed.is_empty() {
        o.push_str("<h3>Missed drills</h3><ul class=\"missed\">");
        for m in &d.missed {
            let _ = write!(o, "<li>{}</li>", when(*m));
        }
        o.push_str("</ul>");
    }
    if !d.failures.is_empty() {
        o.push_str("<h3>Failures</h3><table class=\"failures\"><thead><tr><th scope=\"col\">started</th><th scope=\"col\">verdict</th><th scope=\"col\">reason</th><th scope=\"col\">report</th></tr></thead><tbody>");
        for f in &d.failures {
            let _ = write!(
                o,
                "<tr class=\"failure\"><td>{}</td><td class=\"fail\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
                when(f.started_at),
                verdict_word(f.verdict),
                ticks(&f.reason).replace('\n', "<br>"),
                esc(&f.report)
            );
        }
        o.push_str("</tbody></table>");
    }
    trend_section(o, &format!("rto-{index}"), "RTO", d, s);
    trend_section(o, &format!("rpo-{index}"), "RPO", d, s);
    o.push_str("<h3>Newest verified backup</h3>");
    if d.newest_verified.is_empty() {
        o.push_str("<p class=\"fail\">No backup was verified by a passed drill.</p>");
    } else {
        o.push_str("<table class=\"verified\"><thead><tr><th scope=\"col\">database</th><th scope=\"col\">backup</th><th scope=\"col\">read from</th><th scope=\"col\">recovery point</th><th scope=\"col\">verified</th><th scope=\"col\">report</th></tr></thead><tbody>");
        for v in &d.newest_verified {
            let _ = write!(
                o,
                "<tr><td>{}</td><td><code>{}</code></td><td>{} ({})</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&v.database),
                esc(&v.backup_id),
                esc(&v.destination),
                esc(&v.location),
                when(v.recovery_point),
                when(v.verified_at),
                esc(&v.report)
            );
        }
        o.push_str("</tbody></table>");
    }
    super::runbooks::html(o, d);
    let _ = write!(
        o,
        "<h3>RTO forecast</h3><p class=\"forecast\">{}</p>",
        esc(&d.forecast.text)
    );
    let i = &d.integrity;
    let _ = write!(
        o,
        "<h3>Tamper evidence</h3><p>{} reports checked, {}; {}.</p>",
        i.checked,
        if i.signed { "signed" } else { "not signed" },
        if i.problems.is_empty() {
            "chain intact".to_string()
        } else {
            format!(
                "<strong class=\"fail\">{} problems</strong>",
                i.problems.len()
            )
        }
    );
    if !i.problems.is_empty() {
        o.push_str("<ul>");
        for p in &i.problems {
            let _ = write!(
                o,
                "<li><code>{}</code>: {}</li>",
                esc(&p.report),
                esc(&p.problem)
            );
        }
        o.push_str("</ul>");
    }
    o.push_str("</section>");
}

/// Renders the summary as one self-contained HTML page.
pub fn render_html(s: &Summary) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Restore drill compliance summary {} to {}</title><style>{STYLE}</style></head><body>",
        s.period.start.format("%Y-%m-%d"),
        s.period.end.format("%Y-%m-%d")
    );
    let _ = write!(
        o,
        "<h1>Restore drill compliance summary</h1><p>Period: {} to {} ({:.0} days). Drills summarised: {}. firedrill {}.</p>\
         <p>A scheduled slot is <em>missed</em> when no drill report started between the slot and the next slot plus {} of grace; a slot whose window is still open at the period end is <em>pending</em>.</p>",
        when(s.period.start),
        when(s.period.end),
        s.period.days,
        s.drills.len(),
        esc(&s.tool_version),
        secs(s.period.grace_seconds)
    );
    o.push_str("<h2>Controls</h2><table id=\"controls\"><thead><tr><th scope=\"col\">framework</th><th scope=\"col\">control</th><th scope=\"col\">requirement (short)</th><th scope=\"col\">evidence in this summary</th><th scope=\"col\">status</th></tr></thead><tbody>");
    for c in &s.controls {
        let status = if c.gaps.is_empty() {
            format!("<span class=\"pass\">{}</span>", esc(&c.status))
        } else {
            format!(
                "<span class=\"fail\">{}</span><ul>{}</ul>",
                esc(&c.status),
                c.gaps
                    .iter()
                    .map(|g| format!("<li>{}</li>", ticks(g)))
                    .collect::<String>()
            )
        };
        let _ = write!(
            o,
            "<tr class=\"control\"><td>{}</td><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{status}</td></tr>",
            esc(&c.framework),
            esc(&c.id),
            esc(&c.requirement),
            ticks(&c.evidence)
        );
    }
    o.push_str("</tbody></table>");
    for (i, d) in s.drills.iter().enumerate() {
        drill(&mut o, d, i, s);
    }
    o.push_str("</body></html>\n");
    o
}
