//! The row counts of a backup's fingerprint: from the pg_dump stream (free), from the table
//! parts (counted as they are copied out), and with `count(*)` in the backup's snapshot for
//! what neither gave.

use std::collections::BTreeMap;

use super::archive::RowCounts;
use super::export::Exported;
use crate::source::fingerprint::{self, TableRef};
use crate::source::{Fingerprint, TableRows};
use crate::{Error, Result};

/// Catalog facts read in the snapshot: tables, object counts by kind, and the row counts
/// when they were counted by query (not from the dump stream).
pub type Facts = (Vec<TableRef>, BTreeMap<String, i64>, Option<Vec<TableRows>>);

/// Adds the rows of split tables, counted in their parts, to the dump stream's counts.
pub fn add_parts(mut counts: RowCounts, parts: &[Exported]) -> RowCounts {
    for x in parts {
        let part = x.entry.part.as_ref().expect("parts have a part");
        *counts
            .entry((part.schema.clone(), part.table.clone()))
            .or_insert(0) += x.rows;
    }
    counts
}

/// Merges row counts read from the dump with the table list; tables the dump did not count
/// (or all of them, when the stream could not be read) are counted with `count(*)`.
///
/// # Errors
/// [`crate::ErrorKind::Source`] when a count fails.
pub async fn complete(
    client: &tokio_postgres::Client,
    tables: Vec<TableRef>,
    objects: BTreeMap<String, i64>,
    counts: Option<&RowCounts>,
) -> Result<Fingerprint> {
    let mut rows = Vec::with_capacity(tables.len());
    for t in tables {
        let n = match counts.and_then(|c| c.get(&(t.schema.clone(), t.table.clone()))) {
            Some(n) => *n,
            None => fingerprint::count(client, &t).await?,
        };
        rows.push(TableRows {
            schema: t.schema,
            table: t.table,
            rows: n,
            exact: true,
        });
    }
    Ok(Fingerprint {
        tables: rows,
        objects,
    })
}

/// The fingerprint of complete facts.
///
/// # Errors
/// [`crate::ErrorKind::Internal`] when rows were never counted.
pub fn into_fingerprint((_, objects, rows): Facts) -> Result<Fingerprint> {
    match rows {
        Some(tables) => Ok(Fingerprint { tables, objects }),
        None => Err(Error::internal("the dump failed before rows were counted")),
    }
}
