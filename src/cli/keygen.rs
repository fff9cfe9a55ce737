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
    /// Make an ed25519 report-signing key instead of an age identity.
    #[arg(long)]
    pub signing: bool,
}

pub fn run(args: KeygenArgs) -> Result<u8> {
    if args.signing {
        let public = firedrill::report::evidence::write_new_key(&args.output)?;
        if args.json {
            super::print_json(
                &serde_json::json!({ "signing_key_file": args.output, "public_key": public }),
            );
        } else {
            eprintln!(
                "Wrote signing key to {} (keep it secret; set drill.signing-key-file to it).",
                args.output.display()
            );
            println!("{public}");
        }
        return Ok(0);
    }
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
