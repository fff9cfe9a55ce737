use clap::Args;

use firedrill::catalog::prune;
use firedrill::{method, Exit, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Show what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: PruneArgs) -> Result<Exit> {
    let spec = args.spec.load()?;
    let run = prune::run(&spec, method::of(&spec).holdings(), args.dry_run).await?;
    let code = if run.has_problems() {
        Exit::CouldNotRun
    } else {
        Exit::Pass
    };
    if args.spec.json {
        super::print_json(&run);
        return Ok(code);
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for o in &run.destinations {
        out!("destination `{}`:", o.destination);
        for (id, why) in &o.kept {
            out!("  keep   {id}  ({})", why.join(", "));
        }
        for id in &o.deleted {
            out!("  {verb} {id}");
        }
        for (id, why) in &o.refused {
            out!("  cannot delete {id} yet: {why}");
        }
        for id in &o.orphans {
            out!("  {verb} incomplete set {id} (no manifest)");
        }
        let abort = if args.dry_run {
            "would abort"
        } else {
            "aborted"
        };
        for upload in &o.aborted_uploads {
            out!("  {abort} unfinished upload {upload}");
        }
    }
    Ok(code)
}
