use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};

use firedrill::catalog::layout;
use firedrill::catalog::Pick;
use firedrill::drill::{self, DrillOptions, DrillOutcome, RandomPoint};
use firedrill::fleet::{self, Operation, Outcome, Run};
use firedrill::method::pgbackrest;
use firedrill::spec::{DrillSpec, PitrTarget, SourceMethod};
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
    /// Restore a random complete backup from within this long ago (e.g. 7d); pgbackrest
    /// sources: recover to a random time inside the repository's window and this long ago.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "target")]
    pub random_within: Option<Duration>,
    /// pgbackrest sources: the seed of --random-within's time (the report records the seed
    /// used; the same seed over the same window picks the same time).
    #[arg(long, requires = "random_within")]
    pub seed: Option<u64>,
    /// Read from this destination instead of drill.from (pgbackrest sources: a repository,
    /// e.g. repo1).
    #[arg(long)]
    pub from: Option<String>,
    /// pgbackrest sources: recover to the end of the archive (`latest`, the default) or only
    /// to the end of the backup (`immediate`).
    #[arg(long, value_parser = ["latest", "immediate"], conflicts_with = "target_time")]
    pub target: Option<String>,
    /// pgbackrest sources: recover to this moment (RFC 3339, e.g. 2026-12-01T10:00:00Z),
    /// from the newest backup that ended before it.
    #[arg(long, value_parser = parse_time, conflicts_with_all = ["backup", "random_within"])]
    pub target_time: Option<DateTime<Utc>>,
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
            || args.seed.is_some()
            || args.from.is_some()
            || args.keep
            || args.target.is_some()
            || args.target_time.is_some()
        {
            return Err(Error::spec(
                "--all runs every spec's latest backup with its own settings",
            )
            .hint("drop --dry-run, --backup, --random-within, --seed, --from, --target, --target-time and --keep, or drill one spec"));
        }
        return super::fleet::run_all(&args.spec, &args.all, Operation::Drill, cancel).await;
    }
    let mut spec = args.spec.load()?;
    set_target(&mut spec, &args)?;
    refuse_seed(&spec, &args)?;
    let opts = DrillOptions {
        pick: pick(&args)?,
        from: from(&spec, &args),
        keep: args.keep,
        trigger: "manual".into(),
        random: random(&args),
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

fn parse_time(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: give an RFC 3339 time, e.g. 2026-12-01T10:00:00Z"))
}

/// `--target` / `--target-time` into the pgbackrest source; refused for other methods.
fn set_target(spec: &mut DrillSpec, args: &DrillArgs) -> Result<()> {
    let target = match (args.target.as_deref(), args.target_time) {
        (_, Some(t)) => PitrTarget::Time(t),
        (Some("immediate"), None) => PitrTarget::Immediate,
        (Some(_), None) => PitrTarget::Latest,
        (None, None) => return Ok(()),
    };
    match &mut spec.source.method {
        SourceMethod::PgBackRest(src) => {
            src.target = target;
            Ok(())
        }
        _ => Err(Error::spec(format!(
            "`{}`: --target and --target-time are for point-in-time drills of pgbackrest sources",
            spec.name
        ))
        .hint("drop them: a drill of this source restores a backup as it was taken")),
    }
}

/// `--seed` is for the random time of pgbackrest sources.
fn refuse_seed(spec: &DrillSpec, args: &DrillArgs) -> Result<()> {
    if args.seed.is_none() || matches!(spec.source.method, SourceMethod::PgBackRest(_)) {
        return Ok(());
    }
    Err(Error::spec(format!(
        "`{}`: --seed is for --random-within of pgbackrest sources",
        spec.name
    ))
    .hint("drop --seed"))
}

/// `--random-within` (and `--seed`); a drill that names its backup or target is not random;
/// else the spec's `drill.random-within` decides.
fn random(args: &DrillArgs) -> RandomPoint {
    match args.random_within {
        Some(within) => RandomPoint::Within {
            within,
            seed: args.seed,
        },
        None if args.backup.is_some() || args.target.is_some() || args.target_time.is_some() => {
            RandomPoint::Off
        }
        None => RandomPoint::FromSpec,
    }
}

/// `--from`, or for `--backup repoN:LABEL` of a pgbackrest source its repository.
fn from(spec: &DrillSpec, args: &DrillArgs) -> Option<String> {
    if args.from.is_some() || !matches!(spec.source.method, SourceMethod::PgBackRest(_)) {
        return args.from.clone();
    }
    args.backup
        .as_deref()
        .and_then(|id| id.split_once(':'))
        .map(|(repo, _)| repo.to_string())
}

/// Which backup `--backup` asks for (a random one is chosen by the drill).
fn pick(args: &DrillArgs) -> Result<Pick> {
    Ok(match &args.backup {
        Some(id) if !layout::is_backup_id(id) && !pgbackrest::is_backup_id(id) => {
            return Err(Error::spec(format!("`{id}` is not a backup id"))
                .hint("copy one from `firedrill list SPEC`"))
        }
        Some(id) => Pick::Id(id.clone()),
        None => Pick::Latest,
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
