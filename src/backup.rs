//! `firedrill backup`: one backup of a spec's source by its [`crate::method`], under the
//! spec's lease (one backup of a spec at a time), into the primary destination and copied to
//! every other one. The manifest is written last, so a killed run never looks complete.

use tokio_util::sync::CancellationToken;

use crate::spec::DrillSpec;
use crate::storage::{self, lease};
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
    let took_over = lease.took_over.clone();
    lease.release().await;
    result.map(|mut o| {
        o.lease_takeover = took_over;
        o
    })
}
