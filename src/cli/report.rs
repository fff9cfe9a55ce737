use std::path::PathBuf;

use clap::{Args, Subcommand};

use firedrill::report::evidence;
use firedrill::Result;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Check signatures and the chain of every report in a report folder.
    Verify {
        /// The report folder (`drill.reports`), or one drill's folder in it.
        dir: PathBuf,
        /// Machine-readable result on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: ReportArgs) -> Result<u8> {
    match args.command {
        ReportCommand::Verify { dir, json } => {
            let (checked, findings) = evidence::verify(&dir)?;
            if json {
                super::print_json(&serde_json::json!({ "checked": checked, "findings": findings }));
            } else if findings.is_empty() {
                println!("{checked} reports verified: signatures and chain intact.");
            } else {
                for f in &findings {
                    println!("TAMPERED {}: {}", f.report, f.problem);
                }
                println!("{checked} reports checked, {} problems.", findings.len());
            }
            Ok(if findings.is_empty() { 0 } else { 1 })
        }
    }
}
