use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;

use firedrill::{demo, Exit, Result};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for everything the demo creates.
    #[arg(long, default_value = "./firedrill-demo")]
    pub dir: PathBuf,
    /// OS user for the PostgreSQL clusters when running as root.
    #[arg(long, default_value = "postgres")]
    pub run_as: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DemoArgs, cancel: &CancellationToken) -> Result<Exit> {
    let outcome = demo::run(&args.dir, &args.run_as, cancel).await?;
    if args.json {
        super::print_json(&outcome);
    } else {
        super::drill::print_verdict(&outcome.drill);
        out!(
            "Spec used: {} (try `firedrill list {}`)",
            outcome.spec.display(),
            outcome.spec.display()
        );
        out!(
            "Restore runbook this drill proved: `firedrill runbook {}` (`--script` for the one without firedrill)",
            outcome.spec.display()
        );
    }
    Ok(outcome.drill.report.verdict.exit_code())
}
