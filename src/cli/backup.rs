use tokio_util::sync::CancellationToken;

use firedrill::backup::BackupOutcome;
use firedrill::fleet::{self, Operation, Outcome, Run};
use firedrill::{Exit, Result};

use super::BackupArgs;

pub async fn run(args: BackupArgs, cancel: &CancellationToken) -> Result<Exit> {
    if args.all.all {
        return super::fleet::run_all(&args.spec, &args.all, Operation::Backup, cancel).await;
    }
    let spec = args.spec.load()?;
    let outcome = fleet::run_and_notify(&spec, Run::Backup, "manual", cancel).await?;
    if let Outcome::Backup(o) = &outcome {
        print(o, args.spec.json);
    }
    Ok(outcome.exit_code())
}

fn print(outcome: &BackupOutcome, json: bool) {
    if json {
        super::print_json(outcome);
        return;
    }
    out!(
        "Backup {} of `{}`: {} bytes stored in `{}` ({} bytes of dump), recovery point {}, {:.1} s.",
        outcome.backup_id,
        outcome.drill,
        outcome.stored_bytes,
        outcome.primary,
        outcome.plain_bytes,
        outcome.snapshot_at.to_rfc3339(),
        outcome.seconds
    );
    for r in &outcome.replicas {
        match &r.error {
            None => out!(
                "  replica `{}`: copied, size and SHA-256 verified",
                r.destination
            ),
            Some(e) => out!("  replica `{}`: FAILED: {e}", r.destination),
        }
    }
}
