//! Reading the source database: a consistent snapshot, its fingerprint, and the pg_dump
//! stream taken in that same snapshot. The source is only ever read.

pub mod archive;
pub mod dump;
pub mod fingerprint;
pub mod rds;
pub mod snapshot;
pub mod split;

pub use crate::pg::conn::redact_url;
pub use fingerprint::{Fingerprint, TableRows};
