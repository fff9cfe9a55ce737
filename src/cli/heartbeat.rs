//! `firedrill heartbeat SPEC [--install]`: install the heartbeat table in the source, or keep
//! writing it until SIGINT/SIGTERM.

use clap::Args;
use tokio_util::sync::CancellationToken;

use firedrill::{heartbeat, Exit, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct HeartbeatArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Create schema `firedrill` and table `firedrill.heartbeat` in the source, then exit.
    #[arg(long)]
    pub install: bool,
}

pub async fn run(args: HeartbeatArgs, cancel: &CancellationToken) -> Result<Exit> {
    let spec = args.spec.load()?;
    if args.install {
        let done = heartbeat::install(&spec).await?;
        if args.spec.json {
            super::print_json(&done);
        } else {
            out!(
                "Heartbeat table {} installed in {} (since {}). Run `firedrill heartbeat {}` to keep it beating.",
                done.table,
                done.source,
                done.installed_at.to_rfc3339(),
                args.spec.spec.display()
            );
        }
        return Ok(Exit::Pass);
    }
    let written = heartbeat::write(&spec, cancel).await?;
    if args.spec.json {
        super::print_json(&written);
    } else {
        out!(
            "Heartbeat stopped: {} writes, {} failed, {} reconnects.",
            written.writes,
            written.failed_writes,
            written.reconnects
        );
    }
    Ok(Exit::Pass)
}
