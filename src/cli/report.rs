//! `firedrill report DIR|SPEC`: the compliance summary; `firedrill report verify DIR|SPEC`:
//! tamper evidence (and, with a spec, the cited backup objects).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use firedrill::report::summary::{self, SummaryOptions};
use firedrill::report::{cited, evidence};
use firedrill::spec::{self, DrillSpec};
use firedrill::{Error, Result};

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
    /// the backup objects the reports cite.
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

/// With `--from NAME`: the spec's drill reports mirrored in destination NAME, downloaded into a
/// temporary report folder (kept alive by the returned guard).
async fn mirrored(
    path: &Path,
    sets: &[String],
    from: &str,
) -> Result<(DrillSpec, tempfile::TempDir)> {
    let Some(spec) = as_spec(path, sets)? else {
        return Err(Error::spec(format!(
            "--from needs a drill spec, and `{}` is a folder",
            path.display()
        ))
        .hint("give the spec whose destination holds the reports"));
    };
    let Some(d) = spec.destination(from) else {
        let names: Vec<&str> = spec.destinations.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::spec(format!("no destination named `{from}`"))
            .hint(format!("use one of: {}", names.join(", "))));
    };
    let dest = firedrill::storage::open(d).await?;
    let tmp = tempfile::tempdir()
        .map_err(|e| Error::storage(format!("cannot create a temporary folder: {e}")))?;
    firedrill::report::mirror::pull(&dest, &spec.name, tmp.path()).await?;
    Ok((spec, tmp))
}

/// A spec is a file; a report folder is a folder.
fn as_spec(path: &Path, sets: &[String]) -> Result<Option<DrillSpec>> {
    if path.is_file() {
        spec::load(path, sets).map(Some)
    } else {
        Ok(None)
    }
}

pub async fn run(args: ReportArgs) -> Result<u8> {
    match args.command {
        Some(ReportCommand::Verify {
            path,
            sets,
            from,
            json,
        }) => verify(&path, &sets, from.as_deref(), json).await,
        None => summarize(args.summary).await,
    }
}

async fn summarize(a: SummaryArgs) -> Result<u8> {
    let path = a.path.expect("clap requires it");
    let until = match &a.until {
        Some(t) => summary::parse_time("--until", t)?,
        None => chrono::Utc::now(),
    };
    let opts = SummaryOptions {
        since: summary::parse_since(&a.since, until)?,
        until,
        grace: summary::parse_duration("--grace", &a.grace)?,
        horizon_days: (summary::parse_duration("--horizon", &a.horizon)?.num_days()).clamp(0, 36500)
            as u32,
    };
    let mut _pulled = None;
    let histories = match &a.from {
        Some(from) => {
            let (spec, tmp) = mirrored(&path, &a.sets, from).await?;
            let mut h = summary::load_folder(tmp.path(), Some(&spec.name))?;
            h.iter_mut().for_each(|h| h.apply_spec(&spec));
            _pulled = Some(tmp);
            h
        }
        None => match as_spec(&path, &a.sets)? {
            Some(spec) => {
                let mut h = summary::load_folder(&spec.drill.reports, Some(&spec.name))?;
                h.iter_mut().for_each(|h| h.apply_spec(&spec));
                h
            }
            None => summary::load_folder(&path, None)?,
        },
    };
    let s = summary::summarize(&histories, &opts);
    let Some(out) = a.out else {
        print!(
            "{}",
            match a.format {
                Format::Md => summary::render_markdown(&s),
                Format::Html => summary::render_html(&s),
                Format::Json => summary::render_json(&s),
                Format::Csv => summary::render_csv(&s),
            }
        );
        return Ok(0);
    };
    std::fs::create_dir_all(&out).map_err(|e| {
        Error::storage(format!("cannot create `{}`: {e}", out.display()))
            .hint("choose another --out folder")
    })?;
    for (name, text) in [
        ("summary.html", summary::render_html(&s)),
        ("summary.md", summary::render_markdown(&s)),
        ("summary.json", summary::render_json(&s)),
        ("summary.csv", summary::render_csv(&s)),
    ] {
        let file = out.join(name);
        std::fs::write(&file, text)
            .map_err(|e| Error::storage(format!("cannot write `{}`: {e}", file.display())))?;
        println!("{}", file.display());
    }
    Ok(0)
}

async fn verify(path: &Path, sets: &[String], from: Option<&str>, json: bool) -> Result<u8> {
    let (spec, _pulled, dir) = match from {
        Some(from) => {
            let (spec, tmp) = mirrored(path, sets, from).await?;
            let dir = tmp.path().join(&spec.name);
            (Some(spec), Some(tmp), dir)
        }
        None => {
            let spec = as_spec(path, sets)?;
            let dir = match &spec {
                Some(s) => s.drill.reports.join(&s.name),
                None => path.to_path_buf(),
            };
            (spec, None, dir)
        }
    };
    if !dir.is_dir() {
        return Err(
            Error::spec(format!("report folder `{}` does not exist", dir.display()))
                .hint("give the drill.reports folder of a spec, or the spec itself"),
        );
    }
    let (checked, mut findings) = evidence::verify(&dir)?;
    let cited = match &spec {
        Some(s) => cited::verify_cited(&dir, s).await?,
        None => cited::CitedCheck::default(),
    };
    findings.extend(cited.findings);
    // The local folder against the mirrors in the destinations (not when reading a mirror).
    let mirrors = match (&spec, from) {
        (Some(s), None) => {
            let dests = firedrill::storage::open_all(&s.destinations).await?;
            firedrill::report::mirror::compare(&dests, &s.name, &dir).await?
        }
        _ => firedrill::report::mirror::MirrorCheck::default(),
    };
    findings.extend(mirrors.missing);
    if json {
        super::print_json(&serde_json::json!({
            "checked": checked,
            "objects_checked": cited.objects_checked,
            "findings": findings,
            "pruned": cited.pruned,
            "unchecked": cited.unchecked,
            "unmirrored": mirrors.unmirrored,
        }));
    } else {
        for f in &findings {
            println!("TAMPERED {}: {}", f.report, f.problem);
        }
        for f in &cited.pruned {
            println!("PRUNED {}: {}", f.report, f.problem);
        }
        for f in &cited.unchecked {
            println!("UNCHECKED {}: {}", f.report, f.problem);
        }
        for f in &mirrors.unmirrored {
            println!("UNMIRRORED {}: {}", f.report, f.problem);
        }
        let objects = if spec.is_some() {
            format!(", {} cited objects hashed", cited.objects_checked)
        } else {
            String::new()
        };
        if findings.is_empty() {
            let what = if spec.is_some() {
                "signatures, chain and cited objects intact"
            } else {
                "signatures and chain intact"
            };
            println!("{checked} reports verified{objects}: {what}.");
        } else {
            println!(
                "{checked} reports checked{objects}, {} problems.",
                findings.len()
            );
        }
    }
    Ok(if findings.is_empty() { 0 } else { 1 })
}
