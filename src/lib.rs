//! firedrill proves that PostgreSQL databases can be recovered.
//!
//! It takes encrypted (age), compressed backups (pg_dump) into one or more destinations,
//! restores a chosen backup into a scratch database on a schedule, verifies it, measures the
//! real RTO and RPO against the targets of a drill spec, and writes a drill report.
//!
//! Data flow, one module per stage:
//! [`spec`] -> [`backup`] ([`source`] -> [`pipeline`] -> [`storage`]) and
//! [`drill`] ([`catalog`] -> [`restore`] into [`scratch`] -> [`verify`] -> [`measure`] ->
//! [`report`]).

pub mod aws;
pub mod backup;
pub mod catalog;
pub mod check;
pub mod demo;
pub mod drill;
mod error;
pub mod fleet;
pub mod measure;
pub mod method;
pub mod notify;
pub mod parallel;
pub mod pg;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod scratch;
pub mod source;
pub mod spec;
pub mod storage;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod verify;

pub use error::{Error, ErrorKind, Result};

/// This build's version, recorded in manifests and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
