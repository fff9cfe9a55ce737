//! firedrill proves that PostgreSQL databases can be recovered.
//!
//! It takes encrypted, compressed backups (pg_dump, or RDS snapshots) into two or more
//! destinations, restores a chosen backup into a scratch database on a schedule, verifies it,
//! measures the real RTO and RPO against the targets of a drill spec, and writes a drill
//! report.
//!
//! The modules, from the commands down:
//! - commands as library functions: [`backup`], [`drill`], [`check`], [`catalog::listing`]
//!   (`list`), [`catalog::prune`], [`report::verify`], [`fleet`] (many specs, one
//!   run-and-notify), [`schedule`] (`run-due` and the daemon), [`demo`];
//! - [`method`]: how a backup is made and restored, one module per method
//!   ([`method::pg_dump`], [`method::rds`]) behind one interface the commands dispatch on once;
//! - what a drill does after the restore: [`verify`] (checks), [`measure`] (phases, RTO/RPO),
//!   [`report`] (the drill report, its store and mirrors, tamper evidence, the compliance
//!   summary), [`runbook`] (how to recover the backup a drill restored, with firedrill and
//!   without), [`notify`] (metrics, webhooks), [`heartbeat`] (the opt-in write to the source
//!   that measures the data a restore lost), [`cost`] (what a drill consumed and cost);
//! - the backup-set format: [`catalog`] (manifest, layout, listing, choosing, replicating,
//!   retention and prune);
//! - the parts they stand on: [`spec`] (the drill spec, raw -> validated), [`source`] (the
//!   live source's snapshot and fingerprint), [`scratch`] (where a drill restores),
//!   [`pipeline`] (zstd, age, SHA-256, streaming), [`storage`] (byte stores: folders and S3,
//!   leases), [`aws`] (SDK clients and error classification), [`pg`] (connections, tools,
//!   child processes), [`progress`], [`parallel`], [`Error`].
//!
//! Data flow of a pg_dump backup: [`spec`] -> [`backup`] -> [`method::pg_dump`] ([`source`]
//! snapshot -> pg_dump -> [`pipeline`] -> [`storage`]) -> [`catalog`] manifest; of a drill:
//! [`drill`] -> [`catalog`] (choose a set) -> [`method`] restore into [`scratch`] ->
//! [`verify`] -> [`measure`] -> [`report`].

pub mod aws;
pub mod backup;
pub mod catalog;
pub mod check;
pub mod cost;
pub mod demo;
pub mod drill;
mod error;
mod exit;
pub mod fleet;
pub mod heartbeat;
pub mod init;
pub mod measure;
pub mod method;
pub mod notify;
pub mod parallel;
pub mod pg;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod runbook;
pub mod schedule;
pub mod scratch;
pub mod source;
pub mod spec;
pub mod storage;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod verify;

pub use error::{Error, ErrorKind, Result};
pub use exit::Exit;

/// This build's version, recorded in manifests and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
