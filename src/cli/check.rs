use clap::Args;

use firedrill::{check, Exit, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Only validate the spec; do not contact the source, destinations or tools.
    #[arg(long)]
    pub offline: bool,
}

pub async fn run(args: CheckArgs) -> Result<Exit> {
    let spec = args.spec.load()?;
    let outcome = check::run(&spec, args.offline).await;
    if args.spec.json {
        super::print_json(&outcome);
    } else {
        for i in &outcome.checks {
            out!(
                "{} {}: {}",
                match (i.ok, i.warning) {
                    (false, _) => "FAIL",
                    (true, true) => "WARN",
                    (true, false) => "ok  ",
                },
                i.what,
                i.detail
            );
        }
    }
    Ok(if outcome.ok {
        Exit::Pass
    } else {
        Exit::CouldNotRun
    })
}
