use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;

use firedrill::fleet;
use firedrill::schedule::{daemon, due};
use firedrill::{Exit, Result};

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Folder of drill specs (`*.toml`).
    pub dir: PathBuf,
    /// How many specs run at once (never two runs of one spec).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Machine-readable result on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub dir: DirArgs,
    /// Serve /metrics and /healthz on this address (`off` for none).
    #[arg(long, default_value = "127.0.0.1:9187", value_parser = parse_listen)]
    pub listen: Listen,
}

#[derive(Debug, Clone)]
pub struct Listen(pub Option<SocketAddr>);

fn parse_listen(s: &str) -> std::result::Result<Listen, String> {
    if s == "off" {
        return Ok(Listen(None));
    }
    s.parse()
        .map(|a| Listen(Some(a)))
        .map_err(|_| format!("`{s}` is not an address: use host:port (e.g. 0.0.0.0:9187) or off"))
}

/// One pass: run what is due; the exit code is the worst of the runs.
pub async fn run_due(args: DirArgs, cancel: &CancellationToken) -> Result<Exit> {
    let rows = due::run_due(
        &args.dir,
        chrono::Utc::now(),
        usize::from(args.concurrency),
        cancel,
    )
    .await?;
    if rows.is_empty() && !args.json {
        out!("Nothing due.");
    } else {
        super::fleet::print(&rows, args.json);
    }
    Ok(fleet::worst(&rows))
}

/// Runs due work every minute (with up to 20 s of jitter) until SIGINT/SIGTERM.
pub async fn schedule(args: ScheduleArgs, cancel: &CancellationToken) -> Result<Exit> {
    let json = args.dir.json;
    daemon::run(
        daemon::Options {
            dir: args.dir.dir,
            concurrency: usize::from(args.dir.concurrency),
            listen: args.listen.0,
        },
        cancel,
        move |row| {
            if json {
                out!("{}", serde_json::to_string(row).expect("serialisable"));
            } else {
                out!("{}", fleet::line(row));
            }
        },
    )
    .await?;
    Ok(Exit::Pass)
}
