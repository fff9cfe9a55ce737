//! The command line: clap definitions and one module per subcommand. Each maps its outcome to
//! an [`Exit`]; errors become [`Exit::CouldNotRun`] in `main`.

/// `println!` to stdout that never panics: a reader that went away (`firedrill ... | head`)
/// leaves the run's exit code as it is.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` to stdout that never panics, like [`out!`].
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod backup;
mod check;
mod cleanup;
mod demo;
mod drill;
mod fleet;
mod heartbeat;
mod init;
mod keygen;
mod list;
mod prune;
mod report;
mod runbook;
mod schedule;
mod shell;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use firedrill::spec::{self, DrillSpec};
use firedrill::{Exit, Result};

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// The end of `--help`: what the exit code means and the environment read.
const AFTER_HELP: &str = "\
Exit codes:
  0  passed: every check and target met (other commands: done)
  1  a drill ran and a check, a negative control or a target failed, or the backup proved
     unrestorable; report verify: a report tampered with or unproven
  2  could not run: bad spec or arguments, missing tool, unreachable source or storage,
     wrong key, interrupted

Environment:
  FIREDRILL_LOG                  log filter (default info; e.g. debug, firedrill=trace)
  FIREDRILL_LOG_FORMAT           text or json (--log-format)
  FIREDRILL_PROGRESS             auto, bars, lines or off (--progress)
  FIREDRILL_PROGRESS_INTERVAL    seconds between progress lines (--progress-interval)
  FIREDRILL_IDENTITY             the age identity, when drill.identity-file is not set
  FIREDRILL_PG_BIN               folder of the PostgreSQL programs (pg_dump, pg_restore, initdb)
  NO_COLOR                       no colour in logs
  AWS_*                          credentials and settings of the AWS SDK (S3, RDS)
  ${VAR} in a spec               any variable a spec interpolates (passwords, webhooks)";

#[derive(Debug, Parser)]
#[command(
    name = "firedrill",
    version,
    about = "Proves PostgreSQL databases can be recovered: encrypted backups, restore drills, measured RTO/RPO, reports.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = LogFormat::Text, env = "FIREDRILL_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// Progress of long phases: bars on a terminal, log lines otherwise (auto), or off.
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = ProgressArg::Auto, env = "FIREDRILL_PROGRESS")]
    pub progress: ProgressArg,

    /// Seconds between progress log lines.
    #[arg(long, global = true, help_heading = GLOBAL, default_value_t = 10.0, env = "FIREDRILL_PROGRESS_INTERVAL", value_parser = parse_interval)]
    pub progress_interval: f64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Bars,
    Lines,
    Off,
}

fn parse_interval(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.05..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0.05 and 3600"
        )),
    }
}

impl Cli {
    /// The progress mode: `auto` is bars when stderr is a terminal and logs are text.
    pub fn progress_mode(&self) -> firedrill::progress::Mode {
        use firedrill::progress::Mode;
        use std::io::IsTerminal;
        match self.progress {
            ProgressArg::Bars => Mode::Bars,
            ProgressArg::Lines => Mode::Lines,
            ProgressArg::Off => Mode::Off,
            ProgressArg::Auto => {
                if std::io::stderr().is_terminal() && matches!(self.log_format, LogFormat::Text) {
                    Mode::Bars
                } else {
                    Mode::Lines
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole story on this machine: sample database, key, backup to two folders, drill.
    Demo(demo::DemoArgs),
    /// Write a ready drill spec for your database, with its keys and two backup folders.
    Init(init::InitArgs),
    /// Write a new age identity file (mode 0600) and print its recipient.
    Keygen(keygen::KeygenArgs),
    /// Validate a drill spec (every problem at once), then check tools, source, destinations, keys.
    Check(check::CheckArgs),
    /// Back up the source to the primary destination and replicate it to the others.
    Backup(BackupArgs),
    /// List backup sets per destination with presence and parity.
    List(SpecArgs),
    /// Restore a backup into a scratch database, verify, measure RTO/RPO, write the report.
    Drill(drill::DrillArgs),
    /// Remove scratch targets left by `drill --keep` or by a killed run.
    Cleanup(SpecArgs),
    /// Delete backup sets [backup.retention] no longer keeps, and incomplete ones.
    Prune(prune::PruneArgs),
    /// Auditor evidence: `report DIR|SPEC --since 90d` summarises drills over a period;
    /// `report verify DIR|SPEC` says how each report is proven (signature, matching mirrors)
    /// and checks chains and cited backup objects.
    Report(report::ReportArgs),
    /// The restore runbook the newest passing drill proved (of `--backup ID`): steps with
    /// measured times, inputs, commands with firedrill, and `--script`, a shell script of
    /// plain tools that restores without firedrill. Exit 1 when no drill of it passed.
    Runbook(runbook::RunbookArgs),
    /// One pass over a folder of specs: run the backups and drills whose schedule is due.
    RunDue(schedule::DirArgs),
    /// Run due backups and drills of a folder of specs, every minute, until stopped.
    Schedule(schedule::ScheduleArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(shell::CompletionsArgs),
    /// Print the man page of firedrill, or of one command (`firedrill man drill`).
    Man(shell::ManArgs),
    /// `--install`: create firedrill.heartbeat in the source; without: write it once per
    /// [heartbeat] interval until stopped, so drills measure the data lost.
    Heartbeat(heartbeat::HeartbeatArgs),
}

/// `backup SPEC` or `backup --all DIR`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub all: fleet::AllArgs,
}

/// Arguments of every command that takes a spec.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The drill spec (TOML).
    pub spec: PathBuf,
    /// Override a spec value: key.path=value (destinations and checks by name).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Machine-readable result on stdout (logs stay on stderr).
    #[arg(long)]
    pub json: bool,
}

impl SpecArgs {
    pub fn load(&self) -> Result<DrillSpec> {
        spec::load(&self.spec, &self.sets)
    }
}

/// Prints `value` as JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    out!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    );
}

/// Runs the chosen command; returns the process exit code.
pub async fn run(cli: Cli, cancel: CancellationToken) -> Result<Exit> {
    match cli.command {
        Command::Demo(a) => demo::run(a, &cancel).await,
        Command::Init(a) => init::run(a).await,
        Command::Keygen(a) => keygen::run(a),
        Command::Check(a) => check::run(a).await,
        Command::Backup(a) => backup::run(a, &cancel).await,
        Command::List(a) => list::run(a).await,
        Command::Drill(a) => drill::run(a, &cancel).await,
        Command::Cleanup(a) => cleanup::run(a).await,
        Command::Prune(a) => prune::run(a).await,
        Command::RunDue(a) => schedule::run_due(a, &cancel).await,
        Command::Report(a) => report::run(a).await,
        Command::Runbook(a) => runbook::run(a),
        Command::Schedule(a) => schedule::schedule(a, &cancel).await,
        Command::Completions(a) => shell::completions(&a),
        Command::Man(a) => shell::man(&a),
        Command::Heartbeat(a) => heartbeat::run(a, &cancel).await,
    }
}

/// Whether the command asked for JSON output (for error reporting in `main`).
pub fn wants_json(cli: &Cli) -> bool {
    match &cli.command {
        Command::List(a) | Command::Cleanup(a) => a.json,
        Command::Backup(a) => a.spec.json,
        Command::Check(a) => a.spec.json,
        Command::Drill(a) => a.spec.json,
        Command::Prune(a) => a.spec.json,
        Command::RunDue(a) => a.json,
        Command::Schedule(a) => a.dir.json,
        Command::Report(a) => match &a.command {
            Some(report::ReportCommand::Verify { json, .. }) => *json,
            None => a.summary.format == report::Format::Json,
        },
        Command::Demo(a) => a.json,
        Command::Init(a) => a.json,
        Command::Keygen(a) => a.json,
        Command::Runbook(a) => a.format == runbook::Format::Json && !a.script,
        Command::Completions(_) | Command::Man(_) => false,
        Command::Heartbeat(a) => a.spec.json,
    }
}
