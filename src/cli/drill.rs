use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use firedrill::catalog::layout;
use firedrill::catalog::Pick;
use firedrill::drill::{self, DrillOptions, DrillOutcome};
use firedrill::fleet::{self, Operation, Outcome, Run};
use firedrill::{Error, Exit, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct DrillArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Print the plan and touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore this backup id instead of the latest.
    #[arg(long, conflicts_with = "random_within")]
    pub backup: Option<String>,
    /// Restore a random complete backup from within this long ago (e.g. 7d).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub random_within: Option<Duration>,
    /// Read from this destination instead of drill.from.
    #[arg(long)]
    pub from: Option<String>,
    /// Leave the scratch target running and print how to connect.
    #[arg(long)]
    pub keep: bool,
    #[command(flatten)]
    pub all: super::fleet::AllArgs,
}

pub async fn run(args: DrillArgs, cancel: &CancellationToken) -> Result<Exit> {
    if args.all.all {
        if args.dry_run
            || args.backup.is_some()
            || args.random_within.is_some()
            || args.from.is_some()
            || args.keep
        {
            return Err(Error::spec(
                "--all runs every spec's latest backup with its own settings",
            )
            .hint("drop --dry-run, --backup, --random-within, --from and --keep, or drill one spec"));
        }
        return super::fleet::run_all(&args.spec, &args.all, Operation::Drill, cancel).await;
    }
    let spec = args.spec.load()?;
    let opts = DrillOptions {
        pick: pick(&args)?,
        from: args.from.clone(),
        keep: args.keep,
        trigger: "manual".into(),
    };
    if args.dry_run {
        let plan = drill::plan(&spec, &opts).await?;
        if args.spec.json {
            super::print_json(&plan);
        } else {
            out_raw!("{plan}");
        }
        return Ok(Exit::Pass);
    }
    let outcome = fleet::run_and_notify(&spec, Run::Drill(opts), "manual", cancel).await?;
    if let Outcome::Drill(o) = &outcome {
        print(o, &args.spec);
    }
    Ok(outcome.exit_code())
}

/// Which backup `--backup` or `--random-within` asks for.
fn pick(args: &DrillArgs) -> Result<Pick> {
    Ok(match (&args.backup, args.random_within) {
        (Some(id), _) if !layout::is_backup_id(id) => {
            return Err(Error::spec(format!("`{id}` is not a backup id"))
                .hint("copy one from `firedrill list SPEC`"))
        }
        (Some(id), _) => Pick::Id(id.clone()),
        (None, Some(d)) => Pick::RandomWithin(d),
        (None, None) => Pick::Latest,
    })
}

fn print(outcome: &DrillOutcome, args: &SpecArgs) {
    let r = &outcome.report;
    if args.json {
        super::print_json(&serde_json::json!({
            "verdict": r.verdict,
            "report": r,
            "report_files": outcome.stored,
            "kept_url": outcome.kept_url,
            "rto": r.rto.as_ref().map(|x| serde_json::json!({"total_seconds": x.seconds, "target_seconds": x.target_seconds, "pass": x.pass})),
        }));
        return;
    }
    print_verdict(outcome);
    if let Some(url) = &outcome.kept_url {
        out!("Scratch target kept. Connect with:\n  psql '{url}'\nRemove it with: firedrill cleanup {}", args.spec.display());
    }
}

/// The verdict for people and where the report files are.
pub fn print_verdict(outcome: &DrillOutcome) {
    out!("{}", fleet::verdict(&outcome.report));
    if let Some(s) = &outcome.stored {
        out!("Report: {}", s.json.display());
        out!("        {}", s.markdown.display());
        out!("        {}", s.html.display());
    }
}
