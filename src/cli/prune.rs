use clap::Args;

use firedrill::catalog::prune;
use firedrill::{storage, Error, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Show what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: PruneArgs) -> Result<u8> {
    let spec = args.spec.load()?;
    let policy = spec.backup.retention.clone().ok_or_else(|| {
        Error::spec(format!(
            "`{}` has no [backup.retention]",
            spec.path.display()
        ))
        .hint("add [backup.retention] with keep-last, daily, weekly and/or monthly")
    })?;
    let mut outcomes = Vec::new();
    for d in storage::open_all(&spec.destinations).await? {
        outcomes.push(
            prune::prune(
                &d,
                &spec.name,
                &policy,
                spec.backup.orphan_grace,
                spec.source.rds.as_ref(),
                args.dry_run,
            )
            .await?,
        );
    }
    if args.spec.json {
        super::print_json(&outcomes);
        return Ok(0);
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for o in &outcomes {
        println!("destination `{}`:", o.destination);
        for (id, why) in &o.kept {
            println!("  keep   {id}  ({})", why.join(", "));
        }
        for id in &o.deleted {
            println!("  {verb} {id}");
        }
        for (id, why) in &o.refused {
            println!("  cannot delete {id} yet: {why}");
        }
        for id in &o.orphans {
            println!("  {verb} incomplete set {id} (no manifest)");
        }
    }
    Ok(0)
}
