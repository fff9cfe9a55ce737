//! Printing rows of many runs (`--all`, `run-due`, `schedule`) as a summary table or JSON.

use tokio_util::sync::CancellationToken;

use firedrill::fleet::{self, Operation, RunRow};
use firedrill::{Exit, Result};

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

pub fn print(rows: &[RunRow], json: bool) {
    if json {
        super::print_json(&rows);
    } else {
        out!("{}", fleet::table(rows));
    }
}

/// `backup --all DIR` / `drill --all DIR`.
pub async fn run_all(
    args: &SpecArgs,
    all: &AllArgs,
    op: Operation,
    cancel: &CancellationToken,
) -> Result<Exit> {
    let concurrency = usize::from(all.concurrency);
    let rows = fleet::run_all(&args.spec, op, "fleet", concurrency, cancel).await?;
    print(&rows, args.json);
    Ok(fleet::worst(&rows))
}
