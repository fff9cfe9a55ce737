//! Reading a live source database: a consistent snapshot and its fingerprint (row counts and
//! object counts taken in that snapshot). The source is only ever read. How a backup is taken
//! from it is a [`crate::method`].

pub mod fingerprint;
pub mod snapshot;

pub use crate::pg::conn::redact_url;
pub use fingerprint::{Fingerprint, TableRows};
