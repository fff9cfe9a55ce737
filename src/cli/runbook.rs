//! `firedrill runbook SPEC [--backup ID] [--format md|html|json] [--script]`: the runbook of
//! the newest drill that passed (of that backup); exit 1 when none did.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use firedrill::runbook::proven::{self, Lookup};
use firedrill::{spec, Exit, Result};

#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// The drill spec (TOML).
    pub spec: PathBuf,
    /// The runbook of this backup (as `firedrill list` prints its id) instead of the newest.
    #[arg(long)]
    pub backup: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md, conflicts_with = "script")]
    pub format: Format,
    /// Print only the without-firedrill shell script.
    #[arg(long)]
    pub script: bool,
    /// Override a spec value: key.path=value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// Output format of the runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Md,
    Html,
    Json,
}

pub fn run(args: RunbookArgs) -> Result<Exit> {
    let spec = spec::load(&args.spec, &args.sets)?;
    let found = match proven::newest(&spec, args.backup.as_deref())? {
        Lookup::Proven(p) => p,
        Lookup::NotProven { why, fix } => {
            eprintln!("error: {why}\n  fix: {fix}");
            if args.format == Format::Json && !args.script {
                super::print_json(&serde_json::json!({
                    "error": { "kind": "not-proven", "message": why, "hint": fix }
                }));
            }
            return Ok(Exit::Failed);
        }
    };
    match (args.script, args.format) {
        (true, _) => out_raw!("{}", found.runbook.script),
        (false, Format::Md) => out_raw!("{}", found.render_markdown()),
        (false, Format::Html) => out_raw!("{}", found.render_html()),
        (false, Format::Json) => out_raw!("{}", found.render_json()),
    }
    Ok(Exit::Pass)
}
