//! Large tables as parallel streams. pg_dump copies one table after the other, each with one
//! query, so a database whose size is in a few tables dumps (and restores) at the speed of one
//! core. Tables of at least half of `backup.split-size` are copied out as parts instead, and
//! from `split-size` on they are cut into several block ranges: each part is copied out with
//! its own `COPY (SELECT ... WHERE ctid >= .. AND ctid < ..)` (a TID range scan, PostgreSQL
//! 14+) on its own connection, all inside the backup's exported snapshot, and pg_dump dumps
//! everything else with those tables' data excluded (`--exclude-table-data`).
//!
//! The restore creates the schema (pg_restore `pre-data`), loads the parts with `COPY FROM`
//! beside pg_restore's `data` section, and only then builds indexes and constraints
//! (`post-data`), the same order pg_restore follows.

use tokio_postgres::{Client, Row};

pub use crate::catalog::manifest::TablePart;
use crate::pg::{conn::pg_message, quote_ident, quote_literal};
use crate::{Error, Result};

/// Default `backup.split-size`: tables from 64 MiB of heap are copied out as parts of their
/// own, from 128 MiB as several parts of at least 64 MiB.
pub const DEFAULT_SPLIT_SIZE: u64 = 128 * 1024 * 1024;
/// Parts per job: more parts than jobs keep every job busy until the end.
const PARTS_PER_JOB: i64 = 4;

/// SQL and names of a part (the part itself is a manifest entry's record).
impl TablePart {
    /// `"schema"."table"`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.table))
    }

    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The query that copies this range out of the source.
    pub fn copy_out_sql(&self) -> String {
        let from = quote_literal(&format!("({},0)", self.first_block));
        let mut filter = format!("ctid >= {from}::tid");
        if let Some(end) = self.end_block {
            let to = quote_literal(&format!("({end},0)"));
            filter.push_str(&format!(" and ctid < {to}::tid"));
        }
        format!(
            "COPY (SELECT {} FROM ONLY {} WHERE {filter}) TO STDOUT",
            self.column_list(),
            self.qualified()
        )
    }

    /// The statement that loads this range into the restored table.
    pub fn copy_in_sql(&self) -> String {
        format!(
            "COPY {} ({}) FROM STDIN",
            self.qualified(),
            self.column_list()
        )
    }

    /// A pg_dump pattern that matches exactly this table.
    pub fn dump_pattern(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        format!("{}.{}", q(&self.schema), q(&self.table))
    }

    /// `schema.table [blocks a..b]`, for messages.
    pub fn describe(&self) -> String {
        match self.end_block {
            Some(end) => format!(
                "{}.{} blocks {}..{end}",
                self.schema, self.table, self.first_block
            ),
            None => format!(
                "{}.{} blocks {}..",
                self.schema, self.table, self.first_block
            ),
        }
    }
}

/// Why a source is not split (recorded in the log), or the parts when it is.
pub enum Plan {
    Parts(Vec<TablePart>),
    NotSplit(&'static str),
}

/// Decides which tables are split, reading the catalog in the backup's snapshot.
///
/// # Errors
/// [`crate::ErrorKind::Source`] when the catalog cannot be read.
pub async fn plan(
    client: &Client,
    jobs: usize,
    server_major: u32,
    split_size: u64,
) -> Result<Plan> {
    if let Some(why) = why_not_split(client, jobs, server_major).await? {
        return Ok(Plan::NotSplit(why));
    }
    let min_part = i64::try_from(split_size / 2).unwrap_or(i64::MAX);
    let tables = large_tables(client, min_part).await?;
    let parts = parts_of(&tables, jobs, min_part);
    if parts.is_empty() {
        return Ok(Plan::NotSplit("no table is large enough to split"));
    }
    lock_tables(client, &parts).await?;
    Ok(Plan::Parts(parts))
}

/// The catalog query that failed.
fn catalog_error(e: &tokio_postgres::Error) -> Error {
    Error::source_db(format!(
        "cannot list the tables to split: {}",
        pg_message(e)
    ))
    .hint("the role needs read access to the catalog")
}

/// Why this backup cannot split any table, if it cannot.
async fn why_not_split(
    client: &Client,
    jobs: usize,
    server_major: u32,
) -> Result<Option<&'static str>> {
    if jobs < 2 {
        return Ok(Some("backup.jobs is 1"));
    }
    if server_major < 14 {
        return Ok(Some(
            "the source is older than PostgreSQL 14 (no TID range scans)",
        ));
    }
    let encoding: String = client
        .query_one("select current_setting('server_encoding')", &[])
        .await
        .map_err(|e| catalog_error(&e))?
        .get(0);
    if encoding != "UTF8" {
        return Ok(Some(
            "the source database is not UTF8 (parts are copied as UTF8 text)",
        ));
    }
    Ok(None)
}

/// Ordinary tables of the database's own schemas with at least `min_part` bytes of heap,
/// largest first: schema, table, blocks, block size, columns copied out.
async fn large_tables(client: &Client, min_part: i64) -> Result<Vec<Row>> {
    client
        .query(
            "select n.nspname, c.relname, \
               (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8, \
               current_setting('block_size')::int8, \
               array(select a.attname::text from pg_attribute a where a.attrelid = c.oid \
                     and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' \
                     order by a.attnum) \
             from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where c.relkind = 'r' and c.relpersistence = 'p' \
               and n.nspname not in ('pg_catalog', 'information_schema') \
               and n.nspname !~ '^pg_' \
               and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass \
                               and d.objid = c.oid and d.deptype = 'e') \
               and pg_relation_size(c.oid) >= $1 \
             order by 3 desc, 1, 2",
            &[&min_part],
        )
        .await
        .map_err(|e| catalog_error(&e))
}

/// The parts of the rows of [`large_tables`] (tables without columns to copy have none).
fn parts_of(tables: &[Row], jobs: usize, min_part: i64) -> Vec<TablePart> {
    let mut parts = Vec::new();
    for r in tables {
        let blocks: i64 = r.get(2);
        let block_size: i64 = r.get(3);
        let columns: Vec<String> = r.get(4);
        if columns.is_empty() {
            continue;
        }
        parts.extend(ranges(blocks, block_size, jobs, min_part).into_iter().map(
            |(first_block, end_block)| TablePart {
                schema: r.get(0),
                table: r.get(1),
                columns: columns.clone(),
                first_block,
                end_block,
            },
        ));
    }
    parts
}

/// The snapshot's session holds a share lock on every split table until the backup ends,
/// as pg_dump does for the tables it dumps: a TRUNCATE or table rewrite (not MVCC-safe)
/// cannot empty a table under a part that has not been copied yet.
async fn lock_tables(client: &Client, parts: &[TablePart]) -> Result<()> {
    let mut locked = std::collections::BTreeSet::new();
    for p in parts {
        if locked.insert(p.qualified()) {
            client
                .batch_execute(&format!(
                    "lock table {} in access share mode",
                    p.qualified()
                ))
                .await
                .map_err(|e| catalog_error(&e))?;
        }
    }
    Ok(())
}

/// Block ranges covering a table of `blocks` blocks: equal ranges of at least `min_part`
/// bytes, a multiple of `jobs` of them when the table is large enough (so that no job is
/// left alone with the last range), at most [`PARTS_PER_JOB`] per job; the last one
/// open-ended.
fn ranges(blocks: i64, block_size: i64, jobs: usize, min_part: i64) -> Vec<(u32, Option<u32>)> {
    let jobs = jobs.max(1) as i64;
    let min_blocks = (min_part / block_size.max(1)).max(1);
    let fit = (blocks / min_blocks).clamp(1, jobs * PARTS_PER_JOB);
    let count = if fit >= jobs { fit - fit % jobs } else { fit };
    let per_part = blocks / count;
    (0..count)
        .map(|i| {
            let first = u32::try_from(i * per_part).unwrap_or(u32::MAX);
            let end =
                (i + 1 < count).then(|| u32::try_from((i + 1) * per_part).unwrap_or(u32::MAX));
            (first, end)
        })
        .collect()
}

/// Settings of every session that copies parts out, as pg_dump sets them: text that reads
/// back the same anywhere, and an error instead of rows silently hidden by row security.
pub const EXPORT_SESSION: &str = "set datestyle = iso; set intervalstyle = postgres; \
     set extra_float_digits = 3; set row_security = off; set statement_timeout = 0; \
     set lock_timeout = 0; set idle_in_transaction_session_timeout = 0; \
     set synchronize_seqscans = off";

/// Opens a transaction on `client` that sees exactly the backup's snapshot `snapshot_id`.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn import_snapshot(client: &Client, snapshot_id: &str) -> Result<()> {
    client
        .batch_execute(&format!(
            "{EXPORT_SESSION}; begin isolation level repeatable read read only; \
             set transaction snapshot {}",
            quote_literal(snapshot_id)
        ))
        .await
        .map_err(|e| {
            Error::source_db(format!(
                "cannot join the backup's snapshot: {}",
                pg_message(&e)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_block_once_and_end_open() {
        // 476 MiB of 8 KiB blocks, two jobs, 64 MiB minimum: 7 would fit, 6 keep both jobs
        // busy to the end.
        let r = ranges(60_905, 8192, 2, 64 << 20);
        assert_eq!(r.len(), 6);
        assert_eq!(r[1].0, 60_905 / 6);
        assert_eq!(r[0].0, 0);
        for w in r.windows(2) {
            assert_eq!(w[0].1, Some(w[1].0));
        }
        assert_eq!(r.last().unwrap().1, None);
        // A small table still gets one (open) range.
        assert_eq!(ranges(10, 8192, 4, 64 << 20), vec![(0, None)]);
        // Small parts when asked: 100 blocks, 4 jobs, 2-block minimum: 16 parts of 6 blocks.
        let r = ranges(100, 8192, 4, 16 << 10);
        assert_eq!(r.len(), 16);
        assert_eq!(r[15], (90, None));
        // Fewer ranges than jobs when the table only has room for that many.
        assert_eq!(ranges(5, 8192, 4, 16 << 10).len(), 2);
    }

    #[test]
    fn sql_quotes_names_and_bounds() {
        let p = TablePart {
            schema: "odd\"s".into(),
            table: "t".into(),
            columns: vec!["a".into(), "b c".into()],
            first_block: 10,
            end_block: Some(20),
        };
        assert_eq!(
            p.copy_out_sql(),
            "COPY (SELECT \"a\", \"b c\" FROM ONLY \"odd\"\"s\".\"t\" WHERE ctid >= '(10,0)'::tid and ctid < '(20,0)'::tid) TO STDOUT"
        );
        assert_eq!(
            p.copy_in_sql(),
            "COPY \"odd\"\"s\".\"t\" (\"a\", \"b c\") FROM STDIN"
        );
        assert_eq!(p.dump_pattern(), "\"odd\"\"s\".\"t\"");
    }
}
