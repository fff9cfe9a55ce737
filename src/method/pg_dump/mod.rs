//! The pg_dump method: logical backups in firedrill's own format.
//!
//! Backup (`backup`): a snapshot of the source, pg_dump in it (large tables as parallel
//! parts, [`split`] + [`export`]) -> zstd -> age -> SHA-256 -> the primary destination, the
//! fingerprint (`counts`) beside it, the manifest last, then replicas. Restore
//! ([`restore`]): fetch -> verify -> decrypt -> decompress -> `pg_restore -j N` into an
//! ephemeral cluster or a server database.

pub mod archive;
mod backup;
mod controls;
mod counts;
pub mod dump;
pub mod export;
mod preflight;
pub mod restore;
mod runbook;
pub mod split;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::{BackupOutcome, CheckItem, Method, Restore, Restored};
use crate::catalog::prune::Holdings;
use crate::catalog::BackupSet;
use crate::spec::{DrillSpec, ScratchSpec};
use crate::storage::Destination;
use crate::verify::Control;
use crate::Result;

/// The manifest's `method.kind` of pg_dump sets.
pub const KIND: &str = "pg_dump";

/// Logical backups with pg_dump.
pub struct PgDump;

/// Everything of a pg_dump set is in the destinations.
impl Holdings for PgDump {}

#[async_trait]
impl Method for PgDump {
    fn holdings(&self) -> &dyn Holdings {
        self
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn noun(&self) -> &'static str {
        "a pg_dump backup"
    }

    fn accepts(&self, scratch: &ScratchSpec) -> bool {
        matches!(scratch, ScratchSpec::Ephemeral | ScratchSpec::Server { .. })
    }

    async fn preflight(&self, spec: &DrillSpec) -> Vec<CheckItem> {
        preflight::run(spec).await
    }

    async fn backup(
        &self,
        spec: &DrillSpec,
        dests: &[Destination],
        cancel: &CancellationToken,
    ) -> Result<BackupOutcome> {
        backup::run(spec, dests, cancel).await
    }

    async fn restore(&self, run: Restore<'_>) -> Result<Restored> {
        restore::run(run).await
    }

    fn runbook(&self, ctx: &crate::runbook::Context<'_>) -> Option<crate::runbook::MethodPart> {
        runbook::part(ctx)
    }

    async fn data_path_controls(
        &self,
        spec: &DrillSpec,
        dest: &Destination,
        set: &BackupSet,
        cancel: &CancellationToken,
    ) -> Vec<Control> {
        controls::run(spec, dest, set, cancel).await
    }
}
