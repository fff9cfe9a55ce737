//! The restore runbook: how to recover a backup, step by step, as the drill that restored it
//! did it, with the time each step took there. Every drill report carries the runbook of the
//! backup it restored; a drill that passed has just proven it.
//!
//! Two paths: with firedrill (`drill --backup ID --keep` into a new database, then promote
//! it), and without firedrill, one shell script of plain tools (fetch, `sha256sum -c`, `age`,
//! `zstd`, `pg_restore`, `psql`) that holds no secret.
//!
//! - [`model`]: the serde model stored in the report (`runbook`, versioned), with the
//!   report's Markdown and HTML "Runbook" section, lives with the report
//!   ([`crate::report::drill::runbook`]);
//! - [`part`]: what a backup method contributes ([`crate::method::Method::runbook`]);
//! - [`build`](mod@build): the runbook of a drill when it ends;
//! - [`commands`]: the recovery with firedrill, as commands;
//! - [`script`]: the method-independent pieces of the script;
//! - [`proven`]: `firedrill runbook`, the runbook of the newest drill that passed.

pub mod build;
pub mod commands;
pub mod part;
pub mod proven;
pub mod script;

pub use crate::report::drill::runbook::model;
pub use build::{build, Drilled};
pub use model::Runbook;
pub use part::{Context, MethodPart, StepPlan};
