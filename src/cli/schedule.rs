use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use firedrill::schedule::due::{self, DueRun};
use firedrill::{Error, Result};

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Folder of drill specs (`*.toml`).
    pub dir: PathBuf,
    /// Machine-readable result on stdout.
    #[arg(long)]
    pub json: bool,
}

fn print(runs: &[DueRun], json: bool) {
    if json {
        super::print_json(&runs);
        return;
    }
    if runs.is_empty() {
        println!("Nothing due.");
    }
    for r in runs {
        println!(
            "{:<6} {:<20} exit {}  {}",
            r.operation,
            r.drill,
            r.code,
            r.detail.lines().next().unwrap_or("")
        );
    }
}

async fn pass(args: &DirArgs, cancel: &CancellationToken) -> Result<Vec<DueRun>> {
    due::run_due(&args.dir, chrono::Utc::now(), cancel)
        .await
        .map_err(|e| {
            Error::spec(format!(
                "cannot read the spec folder `{}`: {e}",
                args.dir.display()
            ))
            .hint("point it at a folder of drill specs")
        })
}

/// One pass: run what is due; the exit code is the worst of the runs.
pub async fn run_due(args: DirArgs, cancel: &CancellationToken) -> Result<u8> {
    let runs = pass(&args, cancel).await?;
    print(&runs, args.json);
    Ok(runs.iter().map(|r| r.code).max().unwrap_or(0))
}

/// Repeats passes every minute (with up to 20 s of jitter) until SIGINT/SIGTERM.
pub async fn schedule(args: DirArgs, cancel: &CancellationToken) -> Result<u8> {
    loop {
        let runs = pass(&args, cancel).await?;
        if !runs.is_empty() {
            print(&runs, args.json);
        }
        let mut b = [0u8; 1];
        let _ = getrandom::fill(&mut b);
        let now = chrono::Utc::now();
        let to_next_minute = 60 - now.timestamp() % 60;
        let wait = Duration::from_secs(to_next_minute as u64)
            + Duration::from_millis(u64::from(b[0]) * 20000 / 255);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return Ok(0),
        }
    }
}
