//! Sql-check control: the query re-run with the tables it reads emptied. The tables are those
//! the planner names (`EXPLAIN (VERBOSE, FORMAT JSON)`), emptied with `TRUNCATE ... CASCADE`
//! inside the control's transaction. A check that still passes is vacuous; where functions
//! may read tables the plan does not show, the control cannot tell.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::{txn, Control, ControlStatus};
use crate::pg::conn::pg_message;
use crate::pg::quote_ident;
use crate::verify::{checks, Expect};

/// What the planner says a query reads.
#[derive(Debug, Default, PartialEq)]
struct Reads {
    /// User tables, `(schema, table)`.
    tables: BTreeSet<(String, String)>,
    /// Only system catalogs were read besides.
    catalogs: bool,
    /// Set-returning functions in the plan: what they read is not shown.
    functions: bool,
}

pub(super) async fn control(client: &Client, check: &str, sql: &str, expect: &Expect) -> Control {
    let blank = Control::new("sql", Some(check), "the tables it reads emptied");
    let reads = match explain(client, sql).await {
        Ok(r) => r,
        Err(why) => {
            return blank.with(
                ControlStatus::Unknown,
                format!("the planner cannot explain the query: {why}"),
            )
        }
    };
    if reads.tables.is_empty() {
        let what = if reads.catalogs {
            "only system catalogs"
        } else {
            "no table (constants or functions)"
        };
        return blank.with(
            ControlStatus::Unknown,
            format!("the plan reads {what}: there is nothing to empty"),
        );
    }
    let names: Vec<String> = reads
        .tables
        .iter()
        .map(|(s, t)| format!("{s}.{t}"))
        .collect();
    let control = Control::new("sql", Some(check), format!("{} emptied", names.join(", ")));
    if let Err(why) = txn::begin(client).await {
        return control.with(ControlStatus::Unknown, why);
    }
    let result = empty_and_rerun(client, check, sql, expect, &reads, control).await;
    txn::rollback(client).await;
    result
}

async fn empty_and_rerun(
    client: &Client,
    check: &str,
    sql: &str,
    expect: &Expect,
    reads: &Reads,
    control: Control,
) -> Control {
    let list: Vec<String> = reads
        .tables
        .iter()
        .map(|(s, t)| format!("{}.{}", quote_ident(s), quote_ident(t)))
        .collect();
    if let Err(why) = txn::attempt(client, &format!("truncate {} cascade", list.join(", "))).await {
        return control.with(
            ControlStatus::Unknown,
            format!("the tables could not be emptied: {why}"),
        );
    }
    let (_, actual, pass, _) = checks::sql_check(client, sql, expect).await;
    match (pass, reads.functions) {
        (false, _) => control.caught(format!("check `{check}` failed: {actual}")),
        (true, true) => control.with(
            ControlStatus::Unknown,
            format!("still passes ({actual}), but the query calls functions whose tables the plan does not show"),
        ),
        (true, false) => control.with(
            ControlStatus::Vacuous,
            format!("still passes on empty tables ({actual} {expect}): the check cannot tell an empty restore from a good one"),
        ),
    }
}

/// The relations the planner says `sql` reads.
async fn explain(client: &Client, sql: &str) -> Result<Reads, String> {
    let text = format!(
        "explain (verbose, format json) {}",
        sql.trim().trim_end_matches(';')
    );
    let messages = client
        .simple_query(&text)
        .await
        .map_err(|e| pg_message(&e))?;
    let plan = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .ok_or("the planner returned no plan")?;
    let value: Value = serde_json::from_str(&plan).map_err(|e| e.to_string())?;
    let mut reads = Reads::default();
    walk(&value, &mut reads);
    Ok(reads)
}

const SYSTEM_SCHEMAS: [&str; 2] = ["pg_catalog", "information_schema"];

fn walk(v: &Value, reads: &mut Reads) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(schema)), Some(Value::String(table))) =
                (map.get("Schema"), map.get("Relation Name"))
            {
                if SYSTEM_SCHEMAS.contains(&schema.as_str()) || schema.starts_with("pg_") {
                    reads.catalogs = true;
                } else {
                    reads.tables.insert((schema.clone(), table.clone()));
                }
            }
            if map.contains_key("Function Name") {
                reads.functions = true;
            }
            map.values().for_each(|x| walk(x, reads));
        }
        Value::Array(items) => items.iter().for_each(|x| walk(x, reads)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads_of(json: &str) -> Reads {
        let mut r = Reads::default();
        walk(&serde_json::from_str(json).unwrap(), &mut r);
        r
    }

    #[test]
    fn tables_come_from_every_level_of_the_plan() {
        let r = reads_of(
            r#"[{"Plan": {"Node Type": "Aggregate", "Plans": [
                {"Node Type": "Hash Join", "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "shop"},
                    {"Node Type": "Index Scan", "Relation Name": "pg_class", "Schema": "pg_catalog"},
                    {"Node Type": "Seq Scan", "Relation Name": "items", "Schema": "public"}]}]}}]"#,
        );
        let tables: Vec<_> = r.tables.iter().map(|(s, t)| format!("{s}.{t}")).collect();
        assert_eq!(tables, ["public.items", "shop.orders"]);
        assert!(r.catalogs);
        assert!(!r.functions);
    }

    #[test]
    fn function_scans_are_noticed() {
        let r = reads_of(
            r#"[{"Plan": {"Node Type": "Function Scan", "Function Name": "generate_series", "Schema": "pg_catalog"}}]"#,
        );
        assert!(r.tables.is_empty());
        assert!(r.functions);
    }
}
