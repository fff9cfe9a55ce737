//! The RDS method: a backup is a manual snapshot of the instance (tagged as firedrill's),
//! copied to every DR region, recorded by a manifest in every destination so `list`, drills
//! and reports see it like any other set; a drill restores the copy (or the instance to its
//! latest restorable time) into a tagged scratch RDS instance.

mod backup;
mod preflight;
mod restore;
mod runbook;
pub mod snapshot;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{BackupOutcome, CheckItem, Method, Restore, Restored};
use crate::catalog::prune::Holdings;
use crate::catalog::BackupSet;
use crate::spec::{DrillSpec, RdsSource, ScratchSpec};
use crate::storage::Destination;
use crate::Result;

/// The manifest's `method.kind` of RDS snapshot sets.
pub const KIND: &str = "rds-snapshot";

/// Backups of one RDS instance.
pub struct Rds {
    src: RdsSource,
}

impl Rds {
    pub fn new(src: RdsSource) -> Self {
        Self { src }
    }
}

#[async_trait]
impl Holdings for Rds {
    /// The snapshots in every region. Sets in every destination share them: `prune` hands
    /// them over only in its pass over the destination drills read from.
    async fn delete_outside(&self, set: &BackupSet) -> Result<()> {
        if let Some(snaps) = &set.manifest.rds {
            for s in &snaps.snapshots {
                snapshot::delete_snapshot(&s.region, self.src.endpoint.as_deref(), s).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Method for Rds {
    fn holdings(&self) -> &dyn Holdings {
        self
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn noun(&self) -> &'static str {
        "an RDS snapshot"
    }

    fn accepts(&self, scratch: &ScratchSpec) -> bool {
        matches!(scratch, ScratchSpec::Rds(_))
    }

    async fn preflight(&self, spec: &DrillSpec) -> Vec<CheckItem> {
        preflight::run(spec, &self.src).await
    }

    async fn backup(
        &self,
        spec: &DrillSpec,
        dests: &[Destination],
        cancel: &CancellationToken,
    ) -> Result<BackupOutcome> {
        backup::run(spec, &self.src, dests, cancel).await
    }

    async fn restore(&self, run: Restore<'_>) -> Result<Restored> {
        restore::run(run).await
    }

    fn runbook(&self, ctx: &crate::runbook::Context<'_>) -> Option<crate::runbook::MethodPart> {
        runbook::part(ctx)
    }
}
