//! Rows of many runs for people: a summary table after `--all` and `run-due`, one line per
//! row while the daemon runs.

use super::RunRow;

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
    let failed = rows.iter().filter(|r| r.code != 0).count();
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

    fn row(spec: &str, drill: &str, operation: &str, code: u8, detail: &str) -> RunRow {
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
    fn table_and_lines_show_the_first_line_of_each_result() {
        let rows = [
            row("/s/orders.toml", "orders", "backup", 0, "backup b1 stored"),
            row("/s/broken.toml", "", "spec", 2, "bad spec\nmore"),
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
