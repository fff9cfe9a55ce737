//! Row-count controls: one row deleted from a table whose count is exact, and, separately, one
//! row inserted; the row-count check must then fail naming that table.

use std::time::Instant;

use tokio_postgres::Client;

use super::{txn, Control, ControlStatus, Subject};
use crate::pg::quote_ident;
use crate::source::fingerprint::{self, TableRef, TableRows};
use crate::verify::checks;

/// Tables tried, smallest first, before the control gives up.
const CANDIDATES: usize = 5;

#[derive(Clone, Copy)]
enum Fault {
    Delete,
    Insert,
}

impl Fault {
    fn words(self) -> &'static str {
        match self {
            Fault::Delete => "one row deleted",
            Fault::Insert => "one row inserted",
        }
    }
}

pub(super) async fn controls(s: &Subject<'_>, check: &str) -> Vec<Control> {
    let mut out = Vec::new();
    for fault in [Fault::Delete, Fault::Insert] {
        let start = Instant::now();
        out.push(control(s, check, fault).await.timed(start));
    }
    out
}

async fn control(s: &Subject<'_>, check: &str, fault: Fault) -> Control {
    let blank = Control::new("row-counts", Some(check), fault.words());
    let Some(restored) = s.restored else {
        return blank.with(
            ControlStatus::NotApplicable,
            "the restored database's fingerprint was not taken",
        );
    };
    let candidates = candidates(s.expected);
    if candidates.is_empty() {
        return blank.with(
            ControlStatus::NotApplicable,
            "no table with rows has an exact count in the manifest",
        );
    }
    if let Err(why) = txn::begin(s.client).await {
        return blank.with(ControlStatus::Unknown, why);
    }
    let result = inject_and_check(s, restored, &candidates, check, fault).await;
    txn::rollback(s.client).await;
    result
}

/// Non-empty tables with exact counts, smallest first.
fn candidates(expected: &crate::source::Fingerprint) -> Vec<&TableRows> {
    let mut c: Vec<&TableRows> = expected
        .tables
        .iter()
        .filter(|t| t.exact && t.rows > 0)
        .collect();
    c.sort_by_key(|t| t.rows);
    c.truncate(CANDIDATES);
    c
}

async fn inject_and_check(
    s: &Subject<'_>,
    restored: &crate::source::Fingerprint,
    candidates: &[&TableRows],
    check: &str,
    fault: Fault,
) -> Control {
    let mut refused = Vec::new();
    for t in candidates {
        let name = format!("{}.{}", t.schema, t.table);
        if let Err(why) = inject(s.client, t, fault).await {
            refused.push(format!("{name}: {why}"));
            continue;
        }
        let control = Control::new(
            "row-counts",
            Some(check),
            format!("{} {} {name}", fault.words(), preposition(fault)),
        );
        return match recounted(s.client, restored, t).await {
            Err(why) => control.with(ControlStatus::Unknown, why),
            Ok(fp) => judge(control, s.expected, &fp, &name, check),
        };
    }
    Control::new("row-counts", Some(check), fault.words()).with(
        ControlStatus::NotApplicable,
        format!("the fault could not be injected: {}", refused.join("; ")),
    )
}

fn preposition(fault: Fault) -> &'static str {
    match fault {
        Fault::Delete => "from",
        Fault::Insert => "into",
    }
}

/// The row-count check's own comparison, with the changed table counted again.
fn judge(
    control: Control,
    expected: &crate::source::Fingerprint,
    fp: &crate::source::Fingerprint,
    name: &str,
    check: &str,
) -> Control {
    let (_, actual, pass, details) = checks::row_counts(expected, fp);
    let prefix = format!("{name}:");
    match details.iter().find(|d| d.starts_with(&prefix)) {
        Some(line) if !pass => control.caught(format!("check `{check}` failed: {line}")),
        _ => control.with(
            ControlStatus::Missed,
            format!("the row-count check still says \"{actual}\" and does not name {name}"),
        ),
    }
}

/// The restored fingerprint with `t` counted again inside the control's transaction.
async fn recounted(
    client: &Client,
    restored: &crate::source::Fingerprint,
    t: &TableRows,
) -> Result<crate::source::Fingerprint, String> {
    let table = TableRef {
        schema: t.schema.clone(),
        table: t.table.clone(),
        estimate: 0,
    };
    let rows = fingerprint::count(client, &table)
        .await
        .map_err(|e| e.message)?;
    let mut fp = restored.clone();
    for r in fp
        .tables
        .iter_mut()
        .filter(|r| r.schema == t.schema && r.table == t.table)
    {
        r.rows = rows;
    }
    Ok(fp)
}

async fn inject(client: &Client, t: &TableRows, fault: Fault) -> Result<(), String> {
    let table = format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.table));
    match fault {
        Fault::Delete => {
            txn::attempt(
                client,
                &format!(
                    "delete from only {table} where ctid = (select ctid from only {table} limit 1)"
                ),
            )
            .await
        }
        Fault::Insert => insert(client, &table).await,
    }
}

/// Copies one row of `table` into it. Unique constraints would refuse the copy: they are
/// dropped first, inside the transaction.
async fn insert(client: &Client, table: &str) -> Result<(), String> {
    let cols = insertable_columns(client, table).await?;
    let sql = format!(
        "insert into {table} ({cols}) overriding system value select {cols} from only {table} limit 1"
    );
    if txn::attempt(client, &sql).await.is_ok() {
        return Ok(());
    }
    drop_uniques(client, table).await?;
    txn::attempt(client, &sql).await
}

/// The columns a copied row can set (not generated ones).
async fn insertable_columns(client: &Client, table: &str) -> Result<String, String> {
    let row = client
        .query_one(
            "select string_agg(quote_ident(attname), ', ' order by attnum) from pg_attribute \
             where attrelid = $1::text::regclass and attnum > 0 and not attisdropped \
             and attgenerated = ''",
            &[&table],
        )
        .await
        .map_err(|e| crate::pg::conn::pg_message(&e))?;
    row.get::<_, Option<String>>(0)
        .ok_or_else(|| "it has no column a row can be copied through".into())
}

/// Drops the unique and primary-key constraints and unique indexes of `table` (rolled back
/// with the control).
async fn drop_uniques(client: &Client, table: &str) -> Result<(), String> {
    let rows = client
        .query(
            "select format('alter table %s drop constraint %I cascade', $1::text, conname) \
             from pg_constraint where conrelid = $1::text::regclass and contype in ('p', 'u', 'x') \
             union all \
             select format('drop index %s', indexrelid::regclass) from pg_index i \
             where indrelid = $1::text::regclass and indisunique \
             and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)",
            &[&table],
        )
        .await
        .map_err(|e| crate::pg::conn::pg_message(&e))?;
    for row in rows {
        let stmt: String = row.get(0);
        txn::attempt(client, &stmt).await?;
    }
    Ok(())
}
