use std::path::PathBuf;

use clap::Args;

use firedrill::pipeline::keys;
use firedrill::{Exit, Result};

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the key (never overwritten). Default `firedrill.key`, or
    /// `firedrill-signing.key` with --signing.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Make an ed25519 report-signing key instead of an age identity.
    #[arg(long)]
    pub signing: bool,
}

pub fn run(mut args: KeygenArgs) -> Result<Exit> {
    let output = args.output.take().unwrap_or_else(|| {
        PathBuf::from(if args.signing {
            "firedrill-signing.key"
        } else {
            "firedrill.key"
        })
    });
    if args.signing {
        let public = firedrill::report::evidence::write_new_key(&output)?;
        if args.json {
            super::print_json(
                &serde_json::json!({ "signing_key_file": output, "public_key": public }),
            );
        } else {
            eprintln!(
                "Wrote signing key to {} (keep it secret; set drill.signing-key-file to it).",
                output.display()
            );
            out!("{public}");
        }
        return Ok(Exit::Pass);
    }
    let recipient = keys::write_new_identity(&output)?;
    if args.json {
        super::print_json(&serde_json::json!({ "identity_file": output, "recipient": recipient }));
    } else {
        eprintln!(
            "Wrote identity to {} (keep it secret; drills need it to decrypt).",
            output.display()
        );
        eprintln!("Put this recipient in backup.recipients:");
        out!("{recipient}");
    }
    Ok(Exit::Pass)
}
