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
    let dests = storage::open_all(&spec.destinations).await?;
    // What any destination protects (verified sets, sets in use) is kept in all of them.
    let mut keep_everywhere = std::collections::BTreeMap::new();
    for d in &dests {
        keep_everywhere.extend(prune::protected(d, &spec.name).await?);
    }
    let mut outcomes = Vec::new();
    for d in dests {
        outcomes.push(
            prune::prune(
                &d,
                &spec.name,
                &policy,
                spec.backup.orphan_grace,
                // RDS snapshots are shared by every destination's manifest: deleted only in
                // the pass over the destination drills read from.
                spec.source
                    .rds
                    .as_ref()
                    .filter(|_| d.name == spec.drill.from),
                args.dry_run,
                &keep_everywhere,
            )
            .await?,
        );
    }
    // Retention under Object Lock is expected; any other refusal is a problem.
    let code = if outcomes
        .iter()
        .any(|o| o.refused.values().any(|why| !why.contains("Object Lock")))
    {
        2
    } else {
        0
    };
    if args.spec.json {
        super::print_json(&outcomes);
        return Ok(code);
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
    Ok(code)
}
