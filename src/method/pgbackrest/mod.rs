//! The pgBackRest method: physical base backups and the WAL archive, kept by pgBackRest in
//! one repository per region, all named in one existing `pgbackrest.conf` (read, never
//! edited). firedrill drives the `pgbackrest` binary and reads `info --output=json`; it never
//! takes base backups or archives WAL itself.
//!
//! The repositories are the catalog: `backups`, `list` and `check` ask `pgbackrest info`, and
//! nothing of a pgBackRest backup is written to the destinations (they hold firedrill's lease
//! and reports only). Retention is pgBackRest's (`repoN-retention-full`, `expire`): `prune`
//! refuses. Drills of these backups (point-in-time restores into an ephemeral cluster) are not
//! built yet: `restore` says so.

mod backup;
mod command;
pub mod info;
mod preflight;
mod sets;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use command::PgBackRest;
pub use sets::backup_id;

use super::{BackupOutcome, CheckItem, Method, Restore, Restored};
use crate::catalog::listing::Listing;
use crate::catalog::prune::Holdings;
use crate::catalog::BackupSet;
use crate::spec::{DrillSpec, PgBackRestSource, ScratchSpec};
use crate::storage::Destination;
use crate::{Error, Result};

/// The manifest's `method.kind` of pgBackRest backups.
pub const KIND: &str = "pgbackrest";

/// How a pgBackRest backup is named in messages.
pub const NOUN: &str = "a pgBackRest backup";

/// Backups of one stanza.
pub struct PgBackRestMethod {
    src: PgBackRestSource,
    pgbr: PgBackRest,
    /// The spec's name and source, for the manifests made from `info`.
    origin: sets::Origin,
    spec_path: std::path::PathBuf,
}

impl PgBackRestMethod {
    pub fn new(spec: &DrillSpec, src: &PgBackRestSource) -> Self {
        Self {
            src: src.clone(),
            pgbr: PgBackRest::new(spec, src),
            origin: sets::Origin::of(spec),
            spec_path: spec.path.clone(),
        }
    }
}

#[async_trait]
impl Holdings for PgBackRestMethod {
    /// Nothing: pgBackRest's backups are deleted by pgBackRest's own retention.
    async fn delete_outside(&self, _set: &BackupSet) -> Result<()> {
        Ok(())
    }

    fn refuses_prune(&self) -> Option<Error> {
        Some(
            Error::spec(format!(
                "`{}` ({}): retention of pgBackRest backups is pgBackRest's (repo<N>-retention-full and `pgbackrest expire`)",
                self.origin.drill,
                self.spec_path.display()
            ))
            .hint("set repo<N>-retention-full in pgbackrest.conf; pgBackRest expires old backups after each backup"),
        )
    }
}

#[async_trait]
impl Method for PgBackRestMethod {
    fn holdings(&self) -> &dyn Holdings {
        self
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn noun(&self) -> &'static str {
        NOUN
    }

    fn accepts(&self, scratch: &ScratchSpec) -> bool {
        matches!(scratch, ScratchSpec::Ephemeral)
    }

    async fn preflight(&self, spec: &DrillSpec) -> Vec<CheckItem> {
        preflight::run(spec, &self.pgbr).await
    }

    /// One backup per repository; `dests` only hold the lease (nothing is written there).
    async fn backup(
        &self,
        spec: &DrillSpec,
        _dests: &[Destination],
        cancel: &CancellationToken,
    ) -> Result<BackupOutcome> {
        backup::run(spec, &self.src, &self.pgbr, cancel).await
    }

    /// Every repository's backups, whatever `dest` is: the repositories are the catalog.
    async fn backups(&self, _dest: &Destination, _drill: &str) -> Result<Vec<BackupSet>> {
        let stanza = info::parse(&self.pgbr.info_json().await?, &self.src.stanza)?;
        Ok(sets::sets(&self.origin, &stanza))
    }

    async fn listing(&self, _spec: &DrillSpec) -> Option<Result<Listing>> {
        Some(listing(&self.pgbr).await)
    }

    async fn restore(&self, run: Restore<'_>) -> Result<Restored> {
        Err(Error::spec(format!(
            "backup `{}`: point-in-time drills of pgBackRest backups are not implemented yet",
            run.set.id
        ))
        .hint("`firedrill check`, `backup` and `list` work for pgbackrest sources; restore them with `pgbackrest restore` meanwhile"))
    }
}

/// `list`: every backup of every repository; a repository pgBackRest reports not ok is named
/// as unreachable.
async fn listing(pgbr: &PgBackRest) -> Result<Listing> {
    let stanza = info::parse(&pgbr.info_json().await?, &pgbr.stanza)?;
    let unreachable = stanza
        .repo
        .iter()
        .filter(|r| !r.status.usable())
        .map(|r| {
            (
                info::repo_name(r.key),
                Error::storage(format!(
                    "pgBackRest reports {} of stanza `{}`: {}",
                    info::repo_name(r.key),
                    stanza.name,
                    r.status.message
                ))
                .hint("run `firedrill check SPEC`"),
            )
        })
        .collect();
    Ok(Listing {
        destinations: stanza.repo.iter().map(|r| info::repo_name(r.key)).collect(),
        rows: Vec::new(),
        unreachable,
        repositories: Some(sets::rows(&stanza)),
    })
}
