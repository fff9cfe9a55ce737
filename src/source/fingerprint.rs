//! The source fingerprint: exact rows per table and object counts by kind, taken inside the
//! backup's snapshot. A drill computes the same on the restored database and compares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::pg::{conn::pg_message, quote_ident};
use crate::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Every ordinary table in user schemas (partitions counted as their leaf tables).
    pub tables: Vec<TableRows>,
    /// Object counts by kind: tables, indexes, views, materialized_views, sequences, functions,
    /// triggers, types, extensions, large_objects, schemas, constraints.
    pub objects: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRows {
    pub schema: String,
    pub table: String,
    pub rows: i64,
    /// False when `rows` is the planner's estimate (see `backup.exact-count-limit`).
    pub exact: bool,
}

const USER_NS: &str = "n.nspname not in ('pg_catalog', 'information_schema') \
     and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'";

fn not_extension_member(class: &str, oid: &str) -> String {
    format!(
        "not exists (select 1 from pg_depend d where d.classid = '{class}'::regclass \
         and d.objid = {oid} and d.deptype = 'e')"
    )
}

/// Object counts by kind, one query.
fn object_counts_sql() -> String {
    let rel = |kinds: &str| {
        format!(
            "(select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where c.relkind in ({kinds}) and {USER_NS} and {})",
            not_extension_member("pg_class", "c.oid")
        )
    };
    format!(
        "select \
         {tables} as tables, {indexes} as indexes, {views} as views, \
         {matviews} as materialized_views, {seqs} as sequences, \
         (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
            where {USER_NS} and {proc_ext}) as functions, \
         (select count(*) from pg_trigger t join pg_class c on c.oid = t.tgrelid \
            join pg_namespace n on n.oid = c.relnamespace where not t.tgisinternal and {USER_NS}) as triggers, \
         (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace \
            left join pg_class c on c.oid = t.typrelid \
            where {USER_NS} and {type_ext} and (t.typtype in ('e','d','r','m') \
            or (t.typtype = 'c' and c.relkind = 'c'))) as types, \
         (select count(*) from pg_extension) as extensions, \
         (select count(*) from pg_largeobject_metadata) as large_objects, \
         (select count(*) from pg_namespace n where {USER_NS} and {ns_ext}) as schemas, \
         (select count(*) from pg_constraint k join pg_namespace n on n.oid = k.connamespace \
            where {USER_NS} and k.contype <> 'n') as constraints",
        tables = rel("'r','p'"),
        indexes = rel("'i','I'"),
        views = rel("'v'"),
        matviews = rel("'m'"),
        seqs = rel("'S'"),
        proc_ext = not_extension_member("pg_proc", "p.oid"),
        type_ext = not_extension_member("pg_type", "t.oid"),
        ns_ext = not_extension_member("pg_namespace", "n.oid"),
    )
}

fn fail(what: &str, e: tokio_postgres::Error) -> Error {
    Error::source_db(format!("cannot {what}: {}", pg_message(&e)))
        .hint("the role needs read access to every table it backs up")
}

/// A table of the source with the planner's row estimate.
#[derive(Debug, Clone)]
pub struct TableRef {
    pub schema: String,
    pub table: String,
    pub estimate: i64,
}

/// Heap and TOAST bytes of the user tables: an estimate of the plain dump's size, for the
/// progress ETA (a dump writes rows as text and no index, so it is often smaller).
pub async fn estimated_dump_bytes(client: &tokio_postgres::Client) -> Option<u64> {
    let row = client
        .query_one(
            "select coalesce(sum(pg_table_size(c.oid)), 0)::int8 from pg_class c \
             join pg_namespace n on n.oid = c.relnamespace \
             where c.relkind in ('r', 'm') and n.nspname <> 'information_schema' \
             and n.nspname !~ '^pg_'",
            &[],
        )
        .await
        .ok()?;
    u64::try_from(row.get::<_, i64>(0)).ok().filter(|n| *n > 0)
}

/// Every ordinary table in user schemas.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn tables(client: &Client) -> Result<Vec<TableRef>> {
    let rows = client
        .query(
            &format!(
                "select n.nspname, c.relname, c.reltuples::bigint from pg_class c \
                 join pg_namespace n on n.oid = c.relnamespace \
                 where c.relkind = 'r' and {USER_NS} and {} order by 1, 2",
                not_extension_member("pg_class", "c.oid")
            ),
            &[],
        )
        .await
        .map_err(|e| fail("list tables", e))?;
    Ok(rows
        .into_iter()
        .map(|r| TableRef {
            schema: r.get(0),
            table: r.get(1),
            estimate: r.get(2),
        })
        .collect())
}

/// Object counts by kind, in one query.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn objects(client: &Client) -> Result<BTreeMap<String, i64>> {
    let row = client
        .query_one(&object_counts_sql(), &[])
        .await
        .map_err(|e| fail("count objects by kind", e))?;
    Ok(row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name().to_string(), row.get::<_, i64>(i)))
        .collect())
}

/// Exact `count(*)` of one table.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn count(client: &Client, t: &TableRef) -> Result<i64> {
    let sql = format!(
        "select count(*) from only {}.{}",
        quote_ident(&t.schema),
        quote_ident(&t.table)
    );
    Ok(client
        .query_one(&sql, &[])
        .await
        .map_err(|e| fail(&format!("count rows of {}.{}", t.schema, t.table), e))?
        .get(0))
}

/// Row counts by query: exact `count(*)`, or the planner's estimate for tables whose
/// estimate exceeds `exact_count_limit`.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn count_by_query(
    client: &Client,
    tables: &[TableRef],
    exact_count_limit: Option<i64>,
) -> Result<Vec<TableRows>> {
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let (rows, exact) = match exact_count_limit {
            Some(limit) if t.estimate > limit => (t.estimate, false),
            _ => (count(client, t).await?, true),
        };
        out.push(TableRows {
            schema: t.schema.clone(),
            table: t.table.clone(),
            rows,
            exact,
        });
    }
    Ok(out)
}

/// Takes the whole fingerprint by query on `client` (inside whatever transaction it is in).
/// Used on restored databases, and on sources with `row-counts = "query"`.
///
/// # Errors
/// [`crate::ErrorKind::Source`] with the server's message.
pub async fn take(client: &Client, exact_count_limit: Option<i64>) -> Result<Fingerprint> {
    let list = tables(client).await?;
    let tables = count_by_query(client, &list, exact_count_limit).await?;
    Ok(Fingerprint {
        tables,
        objects: objects(client).await?,
    })
}
