//! Where a drill restores: a [`ScratchTarget`]. firedrill only ever drops what it created:
//! ephemeral clusters live in firedrill's work dir with a marker file; server databases carry
//! the spec's prefix and a `COMMENT ON DATABASE` marker, checked before any drop.

mod ephemeral;
mod in_use;
pub mod kept;
pub mod rds;
mod recovery;
pub mod same_server;
mod server;
pub mod work_dir;

use async_trait::async_trait;
use serde::Serialize;

use crate::pg::{PgTarget, PgTools};
use crate::spec::{DrillSpec, ScratchSpec};
use crate::Result;

pub(crate) use ephemeral::hand_to;
pub use ephemeral::{live_owner, EphemeralCluster};
pub use rds::RdsInstance;
pub use recovery::{RecoveryRef, Replay};
pub use server::ServerDatabase;

/// The marker every scratch object carries.
pub const MARKER: &str = "firedrill scratch";

/// Description of a scratch target for plans and reports (no secrets).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ScratchInfo {
    /// `ephemeral` or `server`.
    pub kind: String,
    /// Where it lives: the cluster folder, or the server.
    pub location: String,
    pub database: String,
    pub server_version: String,
    /// What a point-in-time restore recovered (pgBackRest drills only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryRef>,
    /// Why this target is risky though allowed (a scratch server that is the source's own
    /// server); absent when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// What cleaning up did.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct CleanupOutcome {
    pub removed: bool,
    pub kept: bool,
    pub detail: String,
}

impl CleanupOutcome {
    /// A second cleanup of a target already removed or kept: nothing more to do.
    pub fn settled(removed: bool, kept: bool) -> Option<CleanupOutcome> {
        (removed || kept).then(|| CleanupOutcome {
            removed,
            kept,
            detail: String::new(),
        })
    }

    /// A leftover a sweep tried to remove: `detail` when `removal` went through, the error's
    /// message when it did not.
    pub fn swept(removal: Result<bool>, detail: String) -> CleanupOutcome {
        match removal {
            Ok(removed) => CleanupOutcome {
                removed,
                kept: false,
                detail,
            },
            Err(e) => CleanupOutcome {
                removed: false,
                kept: false,
                detail: e.message,
            },
        }
    }
}

#[async_trait]
pub trait ScratchTarget: Send + Sync {
    fn info(&self) -> ScratchInfo;

    /// Connection to the scratch database, as a superuser of it where possible.
    fn target(&self) -> &PgTarget;

    /// Removes the target. Idempotent.
    async fn cleanup(&mut self) -> Result<CleanupOutcome>;

    /// Leaves the target running; returns a connection URL for a person (may contain the
    /// scratch password; never the source's).
    fn keep(&mut self) -> String;
}

/// Creates the scratch target of `spec` for restoring `backup_id` of a PostgreSQL
/// `source_major` server.
///
/// # Errors
/// [`crate::ErrorKind::Scratch`] or [`crate::ErrorKind::Preflight`] naming what is missing.
pub async fn create(
    spec: &DrillSpec,
    tools: &PgTools,
    source_major: u32,
    database: &str,
    backup_id: &str,
) -> Result<Box<dyn ScratchTarget>> {
    match &spec.drill.scratch {
        ScratchSpec::Ephemeral => Ok(Box::new(
            EphemeralCluster::start(
                &spec.drill.work_dir,
                &spec.drill.run_as,
                tools,
                source_major,
                &spec.name,
                backup_id,
                database,
            )
            .await?,
        )),
        ScratchSpec::Server { url, prefix } => Ok(Box::new(
            ServerDatabase::create(
                url,
                prefix,
                &spec.name,
                backup_id,
                source_major,
                &spec.source.url,
            )
            .await?,
        )),
        ScratchSpec::Rds(_) => Err(crate::Error::spec(
            "an RDS scratch instance restores RDS snapshot backups, not pg_dump backups",
        )
        .hint("use scratch = \"ephemeral\" or a server for pg_dump backups")),
    }
}

/// Removes scratch targets of `spec` left behind by `--keep` or by a killed run.
///
/// # Errors
/// [`crate::ErrorKind::Scratch`] when something could not be removed.
pub async fn sweep(spec: &DrillSpec, tools: &PgTools) -> Result<Vec<CleanupOutcome>> {
    match &spec.drill.scratch {
        ScratchSpec::Ephemeral => ephemeral::sweep(&spec.drill.work_dir, &spec.name, tools).await,
        ScratchSpec::Server { url, prefix } => server::sweep(url, prefix, &spec.name).await,
        ScratchSpec::Rds(cfg) => rds::sweep(cfg, &spec.name).await,
    }
}
