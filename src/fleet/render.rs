//! Runs for people: a drill's verdict, the summary table of many runs after `--all` and
//! `run-due`, one line per row while the daemon runs.

use super::RunRow;
use crate::report::DrillReport;
use crate::Exit;

/// One paragraph: the verdict, RTO and RPO against their targets, every check, the reason.
pub fn verdict(r: &DrillReport) -> String {
    let mut s = format!("Drill `{}`: {:?}", r.drill, r.verdict).to_uppercase();
    s = s.replacen(&r.drill.to_uppercase(), &r.drill, 1);
    if let Some(rto) = &r.rto {
        s.push_str(&measured("RTO", rto.seconds, rto.target_seconds));
    }
    if let Some(rpo) = &r.rpo {
        s.push_str(&measured("RPO", rpo.seconds, rpo.target_seconds));
    }
    for c in &r.checks {
        s.push_str(&format!(
            "\n  {} {}: {}",
            if c.pass { "pass" } else { "FAIL" },
            c.name,
            c.actual
        ));
    }
    if let Some(reason) = &r.reason {
        s.push_str(&format!(
            "\n  reason: {}",
            reason.replace('\n', "\n          ")
        ));
    }
    s
}

/// `\n  RTO 12.3 s (target 300 s)`.
fn measured(what: &str, seconds: f64, target: Option<f64>) -> String {
    let mut s = format!("\n  {what} {seconds:.1} s");
    if let Some(t) = target {
        s.push_str(&format!(" (target {t:.0} s)"));
    }
    s
}

/// One line per row, under a header; the worst exit code last.
pub fn table(rows: &[RunRow]) -> String {
    let name_w = rows
        .iter()
        .map(|r| {
            r.drill
                .len()
                .max(r.spec.display().to_string().len().min(30))
        })
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<name_w$}  {:<9} {:>4} {:>9}  {}\n",
        "DRILL", "OPERATION", "EXIT", "SECONDS", "RESULT"
    );
    for r in rows {
        let name = if r.drill.is_empty() {
            r.spec.display().to_string()
        } else {
            r.drill.clone()
        };
        out.push_str(&format!(
            "{name:<name_w$}  {:<9} {:>4} {:>9.1}  {}\n",
            r.operation,
            r.code,
            r.seconds,
            r.detail.lines().next().unwrap_or("")
        ));
    }
    let failed = rows.iter().filter(|r| r.code != Exit::Pass).count();
    out.push_str(&format!(
        "{} run{}, {failed} not passed; exit code {}.",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        super::worst(rows)
    ));
    out
}

/// One line of a row, as the daemon prints them while it runs.
pub fn line(row: &RunRow) -> String {
    format!(
        "{:<6} {:<20} exit {}  {:.1} s  {}",
        row.operation,
        row.drill,
        row.code,
        row.seconds,
        row.detail.lines().next().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(spec: &str, drill: &str, operation: &str, code: Exit, detail: &str) -> RunRow {
        RunRow {
            spec: spec.into(),
            drill: drill.into(),
            operation: operation.into(),
            code,
            seconds: 1.5,
            detail: detail.into(),
        }
    }

    #[test]
    fn a_verdict_lists_measures_checks_and_the_reason() {
        let r: DrillReport = serde_json::from_value(serde_json::json!({
            "format_version": 1, "tool_version": "0", "drill": "shop", "verdict": "failed",
            "reason": "a check failed\nsee below",
            "started_at": "2026-11-26T02:00:00Z", "finished_at": "2026-11-26T02:01:00Z",
            "host": "h", "trigger": {"kind": "manual", "user": "u"},
            "backup": null, "scratch": null, "phases": [], "cleanup": null,
            "rto": {"seconds": 12.34, "target_seconds": 300.0, "pass": true, "phases": []},
            "rpo": {"recovery_point": "2026-11-26T01:59:00Z", "disaster_at": "2026-11-26T02:00:00Z",
                    "seconds": 60.0, "target_seconds": null, "pass": null,
                    "worst_gap_30d_seconds": null},
            "checks": [{"name": "orders exist", "kind": "sql", "expected": "> 0",
                        "actual": "0", "pass": false, "seconds": 0.1}],
        }))
        .unwrap();
        assert_eq!(
            verdict(&r),
            "DRILL `shop`: FAILED\n  RTO 12.3 s (target 300 s)\n  RPO 60.0 s\n  \
             FAIL orders exist: 0\n  reason: a check failed\n          see below"
        );
    }

    #[test]
    fn table_and_lines_show_the_first_line_of_each_result() {
        let rows = [
            row(
                "/s/orders.toml",
                "orders",
                "backup",
                Exit::Pass,
                "backup b1 stored",
            ),
            row(
                "/s/broken.toml",
                "",
                "spec",
                Exit::CouldNotRun,
                "bad spec\nmore",
            ),
        ];
        assert_eq!(
            table(&rows),
            "DRILL           OPERATION EXIT   SECONDS  RESULT\n\
             orders          backup       0       1.5  backup b1 stored\n\
             /s/broken.toml  spec         2       1.5  bad spec\n\
             2 runs, 1 not passed; exit code 2."
        );
        assert_eq!(
            line(&rows[1]),
            "spec                        exit 2  1.5 s  bad spec"
        );
    }
}
