//! `firedrill backup`: one backup of a spec's source by its [`crate::method`], under the
//! spec's lease (one backup of a spec at a time), into the primary destination and copied to
//! every other one. The manifest is written last, so a killed run never looks complete.
//! Unfinished multipart uploads a killed backup of the spec left behind are aborted once
//! older than `backup.retention.orphan-grace`.

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::spec::DrillSpec;
use crate::storage::{self, lease, Destination};
use crate::{method, Result};

pub use crate::method::{BackupOutcome, ReplicaOutcome};

/// Runs one backup of `spec`'s source.
///
/// # Errors
/// Any failure before the primary manifest is written; nothing is then listed as complete.
/// Replica failures are reported in [`BackupOutcome::replicas`], not as errors.
pub async fn run(spec: &DrillSpec, cancel: &CancellationToken) -> Result<BackupOutcome> {
    let dests = storage::open_all(&spec.destinations).await?;
    let primary = dests.first().expect("validated: at least one destination");
    let lease = lease::acquire(primary, &spec.name, "backup", None).await?;
    let result = method::of(spec).backup(spec, &dests, cancel).await;
    if !cancel.is_cancelled() {
        abort_stale_uploads(spec, &dests).await;
    }
    let took_over = lease.took_over.clone();
    lease.release().await;
    result.map(|mut o| {
        o.lease_takeover = took_over;
        o
    })
}

/// Aborts the unfinished multipart uploads of `spec` in `dests` older than its orphan grace
/// (a killed backup's; under the lease no other backup of the spec is writing). A failure is
/// only logged: `prune` tries again.
async fn abort_stale_uploads(spec: &DrillSpec, dests: &[Destination]) {
    let prefix = format!("{}/", spec.name);
    for d in dests {
        let uploads = d
            .store
            .abort_stale_uploads(&prefix, spec.backup.orphan_grace, false)
            .await;
        match uploads {
            Ok(uploads) => {
                for u in uploads {
                    match u.error {
                        None => {
                            info!(destination = %d.name, key = %u.key, started = %u.started_at, "Aborted an unfinished upload of a killed backup.")
                        }
                        Some(why) => {
                            warn!(destination = %d.name, error = %why, "An unfinished upload could not be aborted; prune will try again.")
                        }
                    }
                }
            }
            Err(e) => {
                warn!(destination = %d.name, error = %e.message, "Unfinished uploads could not be listed; prune will try again.")
            }
        }
    }
}
