//! What a backup method contributes to a runbook ([`crate::method::Method::runbook`]): its
//! steps (by the drill phases they took), its tools, its key and recipients, and the
//! without-firedrill script.

use crate::catalog::BackupSet;
use crate::spec::{DestinationSpec, DrillSpec};

use super::model::{Command, KeySource, Recipient, SnapshotRef, Tool};

/// What a drill hands a method to write its part of the runbook.
pub struct Context<'a> {
    pub spec: &'a DrillSpec,
    /// The backup the drill restored.
    pub set: &'a BackupSet,
    /// The destination the drill read it from, as the spec names it (absent when the
    /// method reads from somewhere else, such as a pgBackRest repository).
    pub dest: Option<&'a DestinationSpec>,
    /// The PostgreSQL version of the scratch target the drill restored into.
    pub scratch_version: Option<&'a str>,
}

/// A method's part of a runbook.
pub struct MethodPart {
    pub steps: Vec<StepPlan>,
    pub tools: Vec<Tool>,
    pub key: Option<KeySource>,
    pub recipients: Vec<Recipient>,
    /// The without-firedrill shell block.
    pub script: String,
    /// The snapshot restored, for methods that restore one.
    pub snapshot: Option<SnapshotRef>,
    /// Where the cloud credentials come from, when the method needs some of its own.
    pub credentials: Option<String>,
    /// The recovery with firedrill, when it is not the pg_dump one (a new database on a
    /// recovery server, renamed).
    pub with_firedrill: Option<Vec<Command>>,
}

/// A step of the recovery, and the drill phases that measure it.
pub struct StepPlan {
    pub title: &'static str,
    pub detail: String,
    pub phases: &'static [&'static str],
}
