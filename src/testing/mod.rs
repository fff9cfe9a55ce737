//! Builders for tests: fake backup sets ([`SetBuilder`]) and drill spec text
//! ([`SpecBuilder`]). Compiled for this crate's unit tests and, with the `test-support`
//! feature, for integration tests and other crates' tests; never part of a release build.

mod set;
mod spec;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use set::SetBuilder;
pub use spec::SpecBuilder;

use crate::storage::{Destination, FileStore, MemoryStore};

/// A time from RFC 3339 text, e.g. `utc("2026-11-26T05:15:00Z")`.
///
/// # Panics
/// When `text` is not RFC 3339.
pub fn utc(text: &str) -> DateTime<Utc> {
    text.parse()
        .unwrap_or_else(|e| panic!("`{text}` is not an RFC 3339 time: {e}"))
}

/// A destination named `name` in memory, and its store for direct reads and writes.
pub fn memory_destination(name: &str) -> (Destination, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let dest = Destination {
        name: name.into(),
        store: store.clone(),
    };
    (dest, store)
}

/// A destination named `name` in the folder `root`, and its store.
pub fn folder_destination(
    name: &str,
    root: impl Into<std::path::PathBuf>,
) -> (Destination, Arc<FileStore>) {
    let store = Arc::new(FileStore::new(root));
    let dest = Destination {
        name: name.into(),
        store: store.clone(),
    };
    (dest, store)
}
