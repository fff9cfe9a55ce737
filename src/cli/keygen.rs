use std::path::PathBuf;

use clap::Args;

use firedrill::pipeline::keys;
use firedrill::Result;

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the identity (never overwritten).
    #[arg(long, short, default_value = "firedrill.key")]
    pub output: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: KeygenArgs) -> Result<u8> {
    let recipient = keys::write_new_identity(&args.output)?;
    if args.json {
        super::print_json(
            &serde_json::json!({ "identity_file": args.output, "recipient": recipient }),
        );
    } else {
        eprintln!(
            "Wrote identity to {} (keep it secret; drills need it to decrypt).",
            args.output.display()
        );
        eprintln!("Put this recipient in backup.recipients:");
        println!("{recipient}");
    }
    Ok(0)
}
