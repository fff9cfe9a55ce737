//! Markdown rendering of a [`Summary`].

use std::fmt::Write;

use super::{opt_count as n, when, DrillSummary, Summary, Trend};
use crate::report::drill::words::{human_seconds as secs, md_cell as cell, verdict_word};

fn trend_line(o: &mut String, name: &str, t: &Trend) {
    let _ = writeln!(
        o,
        "- {name}: target {}; latest {}; worst {}; {} of {} drills over the target",
        t.target_seconds.map(secs).unwrap_or_else(|| "none".into()),
        t.latest_seconds.map(secs).unwrap_or_else(|| "—".into()),
        t.worst_seconds.map(secs).unwrap_or_else(|| "—".into()),
        t.over_target,
        t.points.len()
    );
}

fn drill(o: &mut String, d: &DrillSummary) {
    let _ = writeln!(o, "## Drill `{}`\n", d.drill);
    match &d.schedule {
        Some(s) => {
            let _ = writeln!(
                o,
                "Schedule: `{}` in {} (from the {}).\n",
                s.cron,
                s.timezone,
                match s.source {
                    super::ScheduleSource::Spec => "spec",
                    super::ScheduleSource::Report => "newest report",
                }
            );
        }
        None => {
            o.push_str("Schedule: none recorded; scheduled and missed drills are not counted.\n\n")
        }
    }
    if let Some(m) = d.monitored_since {
        let _ = writeln!(
            o,
            "Monitoring began {} (the first drill report, or the spec's drill.monitored-since): slots before it are not counted.\n",
            super::when(m)
        );
    }
    if let Some(t) = &d.cost {
        let _ = writeln!(o, "Cost of the period's drills: {}.\n", t.describe());
    }
    let c = &d.counts;
    let _ = writeln!(
        o,
        "| scheduled | on schedule | missed | pending | run | passed | failed | could not run | aborted |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        n(c.scheduled), n(c.on_schedule), n(c.missed), n(c.pending), c.run, c.passed, c.failed, c.error, c.aborted
    );
    if !d.missed.is_empty() {
        let _ = writeln!(o, "Missed drills (scheduled slots without a report):\n");
        for m in &d.missed {
            let _ = writeln!(o, "- {}", when(*m));
        }
        o.push('\n');
    }
    if !d.failures.is_empty() {
        let _ = writeln!(
            o,
            "### Failures\n\n| started | verdict | reason | report |\n|---|---|---|---|"
        );
        for f in &d.failures {
            let _ = writeln!(
                o,
                "| {} | {} | {} | `{}` |",
                when(f.started_at),
                verdict_word(f.verdict),
                cell(&f.reason),
                f.report
            );
        }
        o.push('\n');
    }
    let _ = writeln!(o, "### RTO and RPO\n");
    trend_line(o, "RTO", &d.rto);
    trend_line(o, "RPO", &d.rpo);
    o.push('\n');
    let _ = writeln!(o, "### Newest verified backup\n");
    if d.newest_verified.is_empty() {
        o.push_str("No backup was verified by a passed drill.\n\n");
    } else {
        let _ = writeln!(
            o,
            "| database | backup | read from | recovery point | verified | report |\n|---|---|---|---|---|---|"
        );
        for v in &d.newest_verified {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} ({}) | {} | {} | `{}` |",
                cell(&v.database),
                v.backup_id,
                cell(&v.destination),
                cell(&v.location),
                when(v.recovery_point),
                when(v.verified_at),
                v.report
            );
        }
        o.push('\n');
    }
    super::runbooks::markdown(o, d);
    let _ = writeln!(o, "### RTO forecast\n\n{}\n", d.forecast.text);
    let i = &d.integrity;
    let _ = writeln!(
        o,
        "### Tamper evidence\n\n{} reports checked, {}; {}.",
        i.checked,
        if i.signed { "signed" } else { "not signed" },
        if i.problems.is_empty() {
            "chain intact".to_string()
        } else {
            format!("{} problems", i.problems.len())
        }
    );
    for p in &i.problems {
        let _ = writeln!(o, "- `{}`: {}", p.report, p.problem);
    }
    o.push('\n');
}

/// Renders the summary as Markdown.
pub fn render_markdown(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Restore drill compliance summary\n\nPeriod: {} to {} ({:.0} days). Drills summarised: {}. firedrill {}.\n",
        when(s.period.start),
        when(s.period.end),
        s.period.days,
        s.drills.len(),
        s.tool_version
    );
    let _ = writeln!(
        o,
        "A scheduled slot is *missed* when no drill report started between the slot and the next slot plus {} of grace; a slot whose window is still open at the period end is *pending*.\n",
        secs(s.period.grace_seconds)
    );
    let _ = writeln!(
        o,
        "## Controls\n\n| framework | control | requirement (short) | evidence in this summary | status |\n|---|---|---|---|---|"
    );
    for c in &s.controls {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            c.framework,
            c.id,
            cell(&c.requirement),
            cell(&c.evidence),
            if c.gaps.is_empty() {
                c.status.clone()
            } else {
                format!("{}: {}", c.status, cell(&c.gaps.join("; ")))
            }
        );
    }
    o.push('\n');
    for d in &s.drills {
        drill(&mut o, d);
    }
    o
}
