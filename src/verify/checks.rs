//! The built-in checks: sql + expect, row-counts and schema against the manifest's
//! fingerprint, freshness against the recovery point, amcheck of every btree index.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, SimpleQueryMessage};

use super::deadline;
use crate::pg::{conn::pg_message, quote_qualified};
use crate::source::fingerprint::TableRows;
use crate::source::{fingerprint, Fingerprint};
use crate::spec::{CheckKind, CheckSpec};

/// Tolerance for tables fingerprinted by estimate.
const ESTIMATE_TOLERANCE: f64 = 0.10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub kind: String,
    pub expected: String,
    pub actual: String,
    pub pass: bool,
    pub seconds: f64,
    /// Mismatches and other specifics, one per line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// What the checks found, and the restored database's fingerprint they compared (which the
/// negative controls start from).
#[derive(Debug)]
pub struct Checked {
    pub results: Vec<CheckResult>,
    pub restored: Option<Fingerprint>,
}

/// Runs every check on `client` (the restored database).
pub async fn run_checks(
    client: &Client,
    checks: &[CheckSpec],
    expected: &Fingerprint,
    recovery_point: DateTime<Utc>,
) -> Checked {
    // The restored fingerprint is taken once, before amcheck installs its extension, within
    // the longest timeout of the checks that compare it.
    let fp_limit = checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::RowCounts | CheckKind::Schema))
        .map(|c| c.timeout)
        .max();
    let restored = match fp_limit {
        Some(limit) => Some(
            deadline::within(client, limit, fingerprint::take(client, None))
                .await
                .and_then(|r| r.map_err(|e| e.message)),
        ),
        None => None,
    };
    let mut out = Vec::with_capacity(checks.len());
    for check in checks {
        let start = Instant::now();
        let outcome = deadline::within(
            client,
            check.timeout,
            one(client, check, expected, restored.as_ref(), recovery_point),
        )
        .await;
        let (expected_text, actual, pass, details) =
            outcome.unwrap_or_else(|why| (check.kind.label().to_string(), why, false, vec![]));
        let result = CheckResult {
            name: check.name.clone(),
            kind: check.kind.label().into(),
            expected: expected_text,
            actual,
            pass,
            seconds: start.elapsed().as_secs_f64(),
            details,
        };
        tracing::info!(check = %result.name, pass = result.pass, actual = %result.actual, "Check finished.");
        out.push(result);
    }
    Checked {
        results: out,
        restored: restored.and_then(std::result::Result::ok),
    }
}

/// Runs one check.
async fn one(
    client: &Client,
    check: &CheckSpec,
    expected: &Fingerprint,
    restored: Option<&std::result::Result<Fingerprint, String>>,
    recovery_point: DateTime<Utc>,
) -> Outcome {
    let no_fingerprint = expected.tables.is_empty() && expected.objects.is_empty();
    match (&check.kind, restored) {
        (CheckKind::RowCounts | CheckKind::Schema, _) if no_fingerprint => (
            "the backup's fingerprint".into(),
            "this backup has no fingerprint (RDS snapshots carry none)".into(),
            false,
            vec!["use sql checks for RDS drills".into()],
        ),
        (CheckKind::Sql { sql, expect }, _) => sql_check(client, sql, expect).await,
        (CheckKind::RowCounts | CheckKind::Schema, Some(Err(_)) | None) => {
            ("fingerprint".into(), e_or(restored), false, vec![])
        }
        (CheckKind::RowCounts, Some(Ok(fp))) => row_counts(expected, fp),
        (CheckKind::Schema, Some(Ok(fp))) => schema(expected, fp),
        (
            CheckKind::Freshness {
                table,
                column,
                within,
            },
            _,
        ) => freshness(client, table, column, *within, recovery_point).await,
        (CheckKind::Amcheck { heapallindexed }, _) => amcheck(client, *heapallindexed).await,
    }
}

/// Why the restored fingerprint is missing.
fn e_or(restored: Option<&std::result::Result<Fingerprint, String>>) -> String {
    match restored {
        Some(Err(e)) => e.clone(),
        _ => "the restored database's fingerprint was not taken".into(),
    }
}

/// What a check found: expected (in words), actual, pass, details.
pub(super) type Outcome = (String, String, bool, Vec<String>);

/// A check whose query failed: one cancelled by `statement_timeout` ran past its `timeout`.
fn query_failed(expected: String, e: &tokio_postgres::Error) -> Outcome {
    let actual = if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
        format!("timed out: {} (the check's `timeout`)", pg_message(e))
    } else {
        format!("query failed: {}", pg_message(e))
    };
    (expected, actual, false, vec![])
}

pub(super) async fn sql_check(
    client: &Client,
    sql: &str,
    expect: &crate::verify::Expect,
) -> Outcome {
    let expected = expect.to_string();
    match client.simple_query(sql).await {
        Err(e) => query_failed(expected, &e),
        Ok(messages) => {
            let rows: Vec<_> = messages
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some(r),
                    _ => None,
                })
                .collect();
            if let Some(shape) = not_one_value(&rows) {
                return (expected, shape, false, vec![
                    "a check compares one value: make the query return one row with one column (e.g. count(*), bool_and(...))".into(),
                ]);
            }
            match rows.first().map(|r| r.get(0).map(str::to_string)) {
                None => (expected, "no rows".into(), false, vec![]),
                Some(value) => {
                    let shown = value.clone().unwrap_or_else(|| "NULL".into());
                    match expect.eval(value.as_deref()) {
                        Ok(()) => (expected, shown, true, vec![]),
                        Err(why) => (expected, shown, false, vec![why]),
                    }
                }
            }
        }
    }
}

/// What is wrong with a result that is not one value: several rows or several columns.
fn not_one_value(rows: &[&tokio_postgres::SimpleQueryRow]) -> Option<String> {
    match rows {
        [] => None,
        [row] if row.len() > 1 => Some(format!("the query returned {} columns", row.len())),
        [_] => None,
        more => Some(format!("the query returned {} rows", more.len())),
    }
}

pub(super) fn row_counts(expected: &Fingerprint, restored: &Fingerprint) -> Outcome {
    let mut details = Vec::new();
    let mut matched = 0usize;
    for t in &expected.tables {
        let got = restored
            .tables
            .iter()
            .find(|r| r.schema == t.schema && r.table == t.table);
        match row_count_mismatch(t, got) {
            Some(why) => details.push(why),
            None => matched += 1,
        }
    }
    for r in &restored.tables {
        if !expected
            .tables
            .iter()
            .any(|t| t.schema == r.schema && t.table == r.table)
        {
            details.push(format!(
                "{}.{}: not in the source fingerprint",
                r.schema, r.table
            ));
        }
    }
    let actual = format!("{matched} of {} tables match", expected.tables.len());
    (
        row_counts_expected(expected),
        actual,
        details.is_empty(),
        details,
    )
}

/// How the restored table `got` differs from the expected count `t`, if it does.
fn row_count_mismatch(t: &TableRows, got: Option<&TableRows>) -> Option<String> {
    match got {
        None => Some(format!(
            "{}.{}: missing (expected {} rows)",
            t.schema, t.table, t.rows
        )),
        Some(r) if t.exact && r.rows != t.rows => Some(format!(
            "{}.{}: {} rows, expected {}",
            t.schema, t.table, r.rows, t.rows
        )),
        Some(r)
            if !t.exact
                && (r.rows - t.rows).abs() as f64 > ESTIMATE_TOLERANCE * t.rows.max(1) as f64 =>
        {
            Some(format!(
                "{}.{}: {} rows, expected about {} (estimate, ±{:.0}%)",
                t.schema,
                t.table,
                r.rows,
                t.rows,
                ESTIMATE_TOLERANCE * 100.0
            ))
        }
        Some(_) => None,
    }
}

/// What the row-count check expects, in words.
fn row_counts_expected(expected: &Fingerprint) -> String {
    let estimated = expected.tables.iter().filter(|t| !t.exact).count();
    if estimated > 0 {
        format!(
            "{} tables as in the manifest ({estimated} by estimate)",
            expected.tables.len()
        )
    } else {
        format!(
            "{} tables with the manifest's exact row counts",
            expected.tables.len()
        )
    }
}

pub(super) fn schema(expected: &Fingerprint, restored: &Fingerprint) -> Outcome {
    let mut details = Vec::new();
    for (kind, want) in &expected.objects {
        let got = restored.objects.get(kind).copied().unwrap_or(0);
        if got != *want {
            details.push(format!("{kind}: {got}, expected {want}"));
        }
    }
    let fmt = |fp: &Fingerprint| {
        fp.objects
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (fmt(expected), fmt(restored), details.is_empty(), details)
}

pub(super) async fn freshness(
    client: &Client,
    table: &str,
    column: &str,
    within: Duration,
    recovery_point: DateTime<Utc>,
) -> Outcome {
    let expected = format!(
        "max({table}.{column}) within {} before the recovery point {}",
        humantime::format_duration(within),
        recovery_point.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let sql = format!(
        "select max({})::timestamptz from {}",
        crate::pg::quote_ident(column),
        quote_qualified(table)
    );
    match client.query_one(&sql, &[]).await {
        Err(e) => query_failed(expected, &e),
        Ok(row) => match row.get::<_, Option<DateTime<Utc>>>(0) {
            None => (expected, "no rows (max is NULL)".into(), false, vec![]),
            Some(newest) if newest > recovery_point + chrono::Duration::seconds(60) => {
                let ahead = (newest - recovery_point).to_std().unwrap_or(Duration::ZERO);
                let actual = format!(
                    "newest {} lies {} after the recovery point: the source's clock or the data is wrong",
                    newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    humantime::format_duration(Duration::from_secs(ahead.as_secs()))
                );
                (expected, actual, false, vec![])
            }
            Some(newest) => {
                let lag = (recovery_point - newest).to_std().unwrap_or(Duration::ZERO);
                let actual = format!(
                    "newest {} ({} before)",
                    newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    humantime::format_duration(Duration::from_secs(lag.as_secs()))
                );
                (expected, actual, lag <= within, vec![])
            }
        },
    }
}

async fn amcheck(client: &Client, heapallindexed: bool) -> Outcome {
    let expected = format!(
        "every btree index passes bt_index_check{}",
        if heapallindexed {
            " (heapallindexed)"
        } else {
            ""
        }
    );
    if let Err(e) = client
        .batch_execute("create extension if not exists amcheck")
        .await
    {
        return (
            expected,
            format!("amcheck is not available: {}", pg_message(&e)),
            false,
            vec!["install the PostgreSQL contrib package on the scratch server".into()],
        );
    }
    let indexes = match client
        .query(
            "select c.oid, n.nspname || '.' || c.relname from pg_index i \
             join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace \
             join pg_am a on a.oid = c.relam \
             where a.amname = 'btree' and c.relkind = 'i' and i.indisvalid and i.indisready and c.relpersistence <> 't' \
             and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' \
             order by 2",
            &[],
        )
        .await
    {
        Ok(rows) => rows,
        Err(e) => return (expected, format!("cannot list indexes: {}", pg_message(&e)), false, vec![]),
    };
    let mut details = Vec::new();
    for row in &indexes {
        let oid: u32 = row.get(0);
        let name: String = row.get(1);
        if let Err(e) = client
            .query_one(
                "select bt_index_check($1::oid::regclass, $2)",
                &[&oid, &heapallindexed],
            )
            .await
        {
            details.push(format!("{name}: {}", pg_message(&e)));
        }
    }
    let actual = format!(
        "{} of {} indexes pass",
        indexes.len() - details.len(),
        indexes.len()
    );
    let _ = client
        .batch_execute("drop extension if exists amcheck")
        .await;
    (expected, actual, details.is_empty(), details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::TableRows;

    fn fp(rows: &[(&str, i64, bool)], objects: &[(&str, i64)]) -> Fingerprint {
        Fingerprint {
            tables: rows
                .iter()
                .map(|(t, n, exact)| TableRows {
                    schema: "public".into(),
                    table: (*t).into(),
                    rows: *n,
                    exact: *exact,
                })
                .collect(),
            objects: objects.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
        }
    }

    #[test]
    fn row_counts_list_every_mismatch() {
        let want = fp(
            &[("a", 10, true), ("b", 5, true), ("big", 1000, false)],
            &[],
        );
        let got = fp(
            &[
                ("a", 10, true),
                ("b", 4, true),
                ("big", 1050, true),
                ("extra", 1, true),
            ],
            &[],
        );
        let (_, actual, pass, details) = row_counts(&want, &got);
        assert!(!pass);
        assert_eq!(actual, "2 of 3 tables match");
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(details[0].contains("public.b: 4 rows, expected 5"));
        assert!(details[1].contains("public.extra"));
        let (_, _, pass, _) = row_counts(
            &want,
            &fp(&[("a", 10, true), ("b", 5, true), ("big", 2000, true)], &[]),
        );
        assert!(!pass, "an estimate off by 100% must fail");
    }

    #[test]
    fn schema_compares_every_kind() {
        let want = fp(&[], &[("tables", 3), ("indexes", 4)]);
        let (_, _, pass, details) = schema(&want, &fp(&[], &[("tables", 3), ("indexes", 3)]));
        assert!(!pass);
        assert_eq!(details, vec!["indexes: 3, expected 4".to_string()]);
        assert!(schema(&want, &want.clone()).2);
    }
}
