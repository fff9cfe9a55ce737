use tokio_util::sync::CancellationToken;

use firedrill::{backup, Result};

use super::BackupArgs;

pub async fn run(args: BackupArgs, cancel: &CancellationToken) -> Result<u8> {
    if args.all.all {
        return super::fleet::run_all(
            &args.spec.spec,
            firedrill::fleet::Operation::Backup,
            &args.all,
            args.spec.json,
            cancel,
        )
        .await;
    }
    let args = args.spec;
    let spec = args.load()?;
    let started = chrono::Utc::now();
    let result = backup::run(&spec, cancel).await;
    firedrill::notify::after_backup(&spec, "manual", started, &result).await;
    let outcome = result?;
    let code = if outcome.complete() { 0 } else { 2 };
    if args.json {
        super::print_json(&outcome);
    } else {
        println!(
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
                None => println!(
                    "  replica `{}`: copied, size and SHA-256 verified",
                    r.destination
                ),
                Some(e) => println!("  replica `{}`: FAILED: {e}", r.destination),
            }
        }
    }
    Ok(code)
}
