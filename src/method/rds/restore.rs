//! An RDS drill's restore: restore request -> instance available -> first connection.

use crate::method::{Restore, Restored};
use crate::scratch::{RdsInstance, ScratchTarget};
use crate::spec::ScratchSpec;
use crate::{Error, Result};

/// Restores the set's snapshot copy (or the source instance to its latest restorable time)
/// into a tagged scratch instance, and connects to it.
///
/// # Errors
/// The restore request refused, the instance not available in time, no connection.
pub async fn run(run: Restore<'_>) -> Result<Restored> {
    let ScratchSpec::Rds(cfg) = &run.spec.drill.scratch else {
        return Err(Error::internal(
            "an RDS restore needs an RDS scratch target",
        ));
    };
    let phase = run.clock.start("restore request");
    let mut instance = RdsInstance::request(cfg, &run.set.manifest, &run.spec.name).await?;
    run.clock.end(phase, None);
    *run.recovery_point = instance.restored_to;
    let phase = run.clock.start("instance available");
    let waited = instance.wait_available(run.cancel).await;
    // From here on the instance exists: it is deleted whatever happens next.
    let scratch: &dyn ScratchTarget = &**run.scratch.insert(Box::new(instance));
    waited?;
    run.clock.end(phase, None);
    let phase = run.clock.start("first connection");
    let client = scratch
        .target()
        .connect("the restored RDS instance")
        .await?;
    run.clock.end(phase, None);
    Ok(Some(client))
}
