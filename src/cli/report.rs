//! `firedrill report DIR|SPEC`: the compliance summary; `firedrill report verify DIR|SPEC`:
//! tamper evidence and what proves each report (with a spec, also the mirrored copies and the
//! cited backup objects).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use firedrill::report::store::source::ReportSource;
use firedrill::report::summary::{self, SummaryOptions};
use firedrill::report::verify;
use firedrill::{Exit, Result};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    #[command(flatten)]
    pub summary: SummaryArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Check signatures and the chain of every report in a report folder; given a spec, also
    /// the reports' mirrored copies (by SHA-256) and the backup objects they cite. Says what
    /// proves each report (signature, matching mirrors, or nothing: exit 1).
    Verify {
        /// The report folder (`drill.reports`), one drill's folder in it, or a drill spec.
        path: PathBuf,
        /// Override a spec value: key.path=value.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Read the reports mirrored in this destination of the spec instead of the local folder.
        #[arg(long, value_name = "DESTINATION")]
        from: Option<String>,
        /// Machine-readable result on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Output format of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Md,
    Html,
    Json,
    Csv,
}

/// The compliance summary over a period.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The report folder (`drill.reports`), one drill's folder in it, or a drill spec (its
    /// drill only, with the spec's schedule and targets).
    #[arg(required = true)]
    pub path: Option<PathBuf>,
    /// Start of the period: a duration before its end (90d, 12weeks) or a date (2026-01-01).
    #[arg(long, default_value = "90d")]
    pub since: String,
    /// End of the period (RFC 3339 time or date); default now.
    #[arg(long)]
    pub until: Option<String>,
    /// How long after the next slot a drill still covers a scheduled slot.
    #[arg(long, default_value = "1h")]
    pub grace: String,
    /// How far ahead the RTO forecast looks.
    #[arg(long, default_value = "365d")]
    pub horizon: String,
    /// Write summary.html, summary.md, summary.json and summary.csv into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Format printed on stdout (without --out).
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Override a spec value: key.path=value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Read the reports mirrored in this destination of the spec instead of the local folder.
    #[arg(long, value_name = "DESTINATION")]
    pub from: Option<String>,
}

pub async fn run(args: ReportArgs) -> Result<Exit> {
    match args.command {
        Some(ReportCommand::Verify {
            path,
            sets,
            from,
            json,
        }) => {
            let source = ReportSource::open(&path, &sets, from.as_deref()).await?;
            let v = verify::verify(&source).await?;
            out_raw!(
                "{}",
                if json {
                    v.render_json()
                } else {
                    v.render_text()
                }
            );
            Ok(v.exit_code())
        }
        None => summarize(args.summary).await,
    }
}

async fn summarize(a: SummaryArgs) -> Result<Exit> {
    let path = a.path.expect("clap requires it");
    let opts = SummaryOptions::from_words(&a.since, a.until.as_deref(), &a.grace, &a.horizon)?;
    let source = ReportSource::open(&path, &a.sets, a.from.as_deref()).await?;
    let mut histories = summary::load(&source)?;
    summary::storage::attach(&source, &mut histories).await;
    let s = summary::summarize(&histories, &opts);
    match (a.out, a.format) {
        (Some(out), _) => summary::write_files(&s, &out, |f| out!("{}", f.display()))?,
        (None, Format::Md) => out_raw!("{}", summary::render_markdown(&s)),
        (None, Format::Html) => out_raw!("{}", summary::render_html(&s)),
        (None, Format::Json) => out_raw!("{}", summary::render_json(&s)),
        (None, Format::Csv) => out_raw!("{}", summary::render_csv(&s)),
    }
    Ok(Exit::Pass)
}
