//! Printing rows of many runs (`--all`, `run-due`, `schedule`) as a summary table or JSON.

use tokio_util::sync::CancellationToken;

use firedrill::fleet::{self, Operation, RunRow};
use firedrill::Result;

use super::SpecArgs;

/// Arguments shared by `backup` and `drill` for running every spec of a folder.
#[derive(Debug, clap::Args)]
pub struct AllArgs {
    /// Treat SPEC as a folder and run every spec (`*.toml`) in it; the exit code is the worst.
    #[arg(long, conflicts_with = "sets")]
    pub all: bool,
    /// With --all: how many runs at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
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
    let failed = rows.iter().filter(|r| r.code != 0).count();
    out.push_str(&format!(
        "{} run{}, {failed} not passed; exit code {}.",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        fleet::worst(rows)
    ));
    out
}

pub fn print(rows: &[RunRow], json: bool) {
    if json {
        super::print_json(&rows);
    } else {
        println!("{}", table(rows));
    }
}

/// `backup --all DIR` / `drill --all DIR`.
pub async fn run_all(
    args: &SpecArgs,
    all: &AllArgs,
    op: Operation,
    cancel: &CancellationToken,
) -> Result<u8> {
    let concurrency = usize::from(all.concurrency);
    let rows = fleet::run_all(&args.spec, op, "fleet", concurrency, cancel).await?;
    print(&rows, args.json);
    Ok(fleet::worst(&rows))
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
