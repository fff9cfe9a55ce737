//! Backup methods: how a backup set is made, and how it is restored into a scratch target.
//!
//! One module per method, behind one small interface, [`Method`]:
//! - [`pg_dump`]: logical dumps in firedrill's own format (zstd + age objects in the
//!   destinations, large tables as parallel parts), restored with `pg_restore` into an
//!   ephemeral cluster or a server database;
//! - [`rds`]: RDS snapshots copied to other regions, restored (or restored to a point in
//!   time) into a scratch RDS instance;
//! - [`pgbackrest`]: physical backups and the WAL archive kept by pgBackRest, one repository
//!   per region, listed from `pgbackrest info`.
//!
//! `backup`, `drill`, `check`, `prune` and `cleanup` choose the method once, with [`of`], and
//! never branch on it again. A new method is one more module here and one more arm in [`of`];
//! the others stay untouched.

mod outcome;
pub mod pg_dump;
pub mod pgbackrest;
pub mod preflight;
pub mod rds;

pub use outcome::{BackupOutcome, ReplicaOutcome};
pub use preflight::CheckItem;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::catalog::listing::Listing;
use crate::catalog::prune::Holdings;
use crate::catalog::{self, BackupSet};
use crate::measure::PhaseClock;
use crate::pg::PgTools;
use crate::scratch::{self, CleanupOutcome, ScratchTarget};
use crate::spec::{DrillSpec, ScratchSpec, SourceMethod};
use crate::storage::Destination;
use crate::verify::{Control, ControlStatus};
use crate::{Error, Result};

/// What a drill hands a method to restore, and what the method leaves for the drill.
pub struct Restore<'a> {
    pub spec: &'a DrillSpec,
    /// The destination the set was read from.
    pub dest: &'a Destination,
    pub set: &'a BackupSet,
    pub cancel: &'a CancellationToken,
    /// Phases of the restore, in the drill's RTO.
    pub clock: &'a mut PhaseClock,
    /// Set as soon as a scratch target exists, so the drill removes it whatever happens next.
    pub scratch: &'a mut Option<Box<dyn ScratchTarget>>,
    /// Set when the recovery point is not the set's snapshot (point-in-time restores).
    pub recovery_point: &'a mut Option<DateTime<Utc>>,
}

/// The scratch target after a restore: a connection opened in a phase of the method's own, or
/// none (the drill then connects in its `verify` phase).
pub type Restored = Option<tokio_postgres::Client>;

/// A backup method: everything `backup`, `drill`, `check`, `prune` and `cleanup` need to know
/// of how a source is protected. What it keeps outside the destinations, `prune` hands over
/// through [`Holdings`].
#[async_trait]
pub trait Method: Holdings {
    /// What this method keeps outside the destinations, for `prune`.
    fn holdings(&self) -> &dyn Holdings;

    /// The `method.kind` the manifests of this method's sets carry.
    fn kind(&self) -> &'static str;

    /// How a backup of this method is named in messages ("a pg_dump backup").
    fn noun(&self) -> &'static str;

    /// Whether drills of this method can restore into `scratch`.
    fn accepts(&self, scratch: &ScratchSpec) -> bool;

    /// What `check` confirms beyond the spec: source, tools, keys, destinations.
    async fn preflight(&self, spec: &DrillSpec) -> Vec<CheckItem>;

    /// Takes one backup of the source into `dests` (the first is the primary) and copies it
    /// to the others.
    ///
    /// # Errors
    /// Any failure before the primary holds a complete set; nothing is then listed.
    async fn backup(
        &self,
        spec: &DrillSpec,
        dests: &[Destination],
        cancel: &CancellationToken,
    ) -> Result<BackupOutcome>;

    /// The backups of `drill` a drill can choose from in `dest`, oldest first.
    ///
    /// # Errors
    /// When the destination cannot be listed.
    async fn backups(&self, dest: &Destination, drill: &str) -> Result<Vec<BackupSet>> {
        catalog::list(dest, drill).await
    }

    /// What `list` shows: the sets in the destinations, unless the method keeps its backups
    /// in repositories of its own (pgBackRest).
    ///
    /// # Errors
    /// When a destination cannot be opened (a bad URL); unreachable ones are in the listing.
    async fn listing(&self, spec: &DrillSpec) -> Result<Listing> {
        catalog::listing::list_all(spec).await
    }

    /// Restores the chosen set into a new scratch target, timing its phases.
    ///
    /// # Errors
    /// Whatever stopped the restore; the drill's report then says why.
    async fn restore(&self, run: Restore<'_>) -> Result<Restored>;

    /// Negative controls of the data path: faults injected into what this method's restore
    /// read from `dest` (in memory, never into the stored set), each of which must be rejected.
    async fn data_path_controls(
        &self,
        _spec: &DrillSpec,
        _dest: &Destination,
        _set: &BackupSet,
        _cancel: &CancellationToken,
    ) -> Vec<Control> {
        vec![Control::new("integrity", None, "none").with(
            ControlStatus::NotApplicable,
            format!(
                "{} is restored from storage firedrill does not read",
                self.noun()
            ),
        )]
    }

    /// This method's part of the runbook of a drilled backup: its steps, tools, key and the
    /// without-firedrill script; `None` when the method writes none.
    fn runbook(&self, _ctx: &crate::runbook::Context<'_>) -> Option<crate::runbook::MethodPart> {
        None
    }

    /// Removes scratch targets left behind by `drill --keep` or by a killed run.
    ///
    /// # Errors
    /// When something could not be looked at or removed.
    async fn sweep(&self, spec: &DrillSpec) -> Result<Vec<CleanupOutcome>> {
        scratch::sweep(spec, &PgTools::new(spec.tools.bin_dir.clone())).await
    }
}

/// The method that protects `spec`'s source.
pub fn of(spec: &DrillSpec) -> Box<dyn Method> {
    match &spec.source.method {
        SourceMethod::PgDump => Box::new(pg_dump::PgDump),
        SourceMethod::Rds(src) => Box::new(rds::Rds::new(src.clone())),
        SourceMethod::PgBackRest(src) => Box::new(pgbackrest::PgBackRestMethod::new(spec, src)),
    }
}

/// `cleanup SPEC`: removes the scratch targets of `spec` left behind by `drill --keep` or by
/// a killed run, where the spec puts them and where kept drills recorded them (another work
/// dir or scratch server given with `--set`). A record is forgotten once its place is clean.
///
/// # Errors
/// When the spec's own place could not be looked at.
pub async fn cleanup(spec: &DrillSpec) -> Result<Vec<CleanupOutcome>> {
    let (elsewhere, here) = scratch::kept::recorded(spec);
    let mut all = of(spec).sweep(spec).await?;
    if all.iter().all(|o| o.removed) {
        scratch::kept::forget(&here);
    }
    for (other, files) in elsewhere {
        match of(&other).sweep(&other).await {
            Ok(outcomes) => {
                if outcomes.iter().all(|o| o.removed) {
                    scratch::kept::forget(&files);
                }
                all.extend(outcomes);
            }
            Err(e) => all.push(CleanupOutcome {
                removed: false,
                kept: false,
                detail: format!(
                    "the kept targets recorded in `{}`: {}",
                    files[0].display(),
                    e.message
                ),
            }),
        }
    }
    Ok(all)
}

/// How a set made with `kind` is named in messages.
pub fn noun_of(kind: &str) -> String {
    match kind {
        pg_dump::KIND => pg_dump::PgDump.noun().to_string(),
        rds::KIND => "an RDS snapshot".to_string(),
        pgbackrest::KIND => pgbackrest::NOUN.to_string(),
        other => format!("a `{other}` backup"),
    }
}

/// Refuses a set the spec's method did not make, or a scratch kind the method cannot restore
/// into.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] naming the backup, what it is and the scratch kind.
pub fn check_restorable(
    method: &dyn Method,
    set: &BackupSet,
    scratch: &ScratchSpec,
    scratch_label: &str,
) -> Result<()> {
    if set.manifest.method.kind == method.kind() && method.accepts(scratch) {
        return Ok(());
    }
    Err(Error::spec(format!(
        "backup `{}` is {} but drill.scratch is {scratch_label}",
        set.id,
        noun_of(&set.manifest.method.kind),
    ))
    .hint(
        "RDS snapshots restore into scratch = { rds = { ... } }; pg_dump backups into \"ephemeral\" or a server",
    ))
}
