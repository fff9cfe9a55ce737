//! `[[check]]`: what a drill verifies in the restored database.

use super::{duration, positive};
use crate::spec::raw::RawCheck;
use crate::spec::{CheckKind, CheckSpec, Problems, CHECK_TIMEOUT};
use crate::verify::Expect;

pub(super) fn checks(raw: Vec<RawCheck>, p: &mut Problems) -> Vec<CheckSpec> {
    let mut checks: Vec<CheckSpec> = Vec::with_capacity(raw.len());
    // Names seen so far: a set, so that a spec of many checks loads in linear time.
    let mut names = std::collections::HashSet::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        if let Some(check) = check(c, i, p) {
            if !names.insert(check.name.clone()) {
                p.push(
                    &format!("check.{}", check.name),
                    format!("check name `{}` is used twice", check.name),
                    "give each check its own name",
                );
            }
            checks.push(check);
        }
    }
    checks
}

fn check(c: RawCheck, i: usize, p: &mut Problems) -> Option<CheckSpec> {
    let key = match &c.name {
        Some(n) => format!("check.{n}"),
        None => format!("check[{i}]"),
    };
    let Some(name) = c.name.clone().filter(|n| !n.trim().is_empty()) else {
        p.push(
            &format!("{key}.name"),
            "every check needs a name",
            "add name = \"...\"",
        );
        return None;
    };
    let kind = c
        .kind
        .clone()
        .unwrap_or_else(|| if c.sql.is_some() { "sql" } else { "" }.into());
    let heapallindexed = c.heapallindexed.is_some();
    let timeout = positive(
        duration(c.timeout.clone(), &format!("{key}.timeout"), p),
        &format!("{key}.timeout"),
        p,
    )
    .unwrap_or(CHECK_TIMEOUT);
    let kind = match kind.as_str() {
        "sql" => sql(c, &key, p)?,
        "row-counts" | "schema" | "amcheck" => whole_database(c, &key, &kind, p),
        "freshness" => freshness(c, &key, p)?,
        other => {
            p.push(
                &format!("{key}.kind"),
                format!("unknown check kind `{other}`"),
                "use sql, row-counts, schema, freshness or amcheck",
            );
            return None;
        }
    };
    if heapallindexed && !matches!(kind, CheckKind::Amcheck { .. }) {
        p.push(
            &format!("{key}.heapallindexed"),
            "only amcheck checks take `heapallindexed`",
            "remove it",
        );
    }
    Some(CheckSpec {
        name,
        kind,
        timeout,
    })
}

/// Reports each field given that a check of `kind` does not take.
fn unused(p: &mut Problems, key: &str, kind: &str, fields: &[(&str, bool)]) {
    for (field, present) in fields {
        if *present {
            p.push(
                &format!("{key}.{field}"),
                format!("`{field}` does not apply to a `{kind}` check"),
                "remove it",
            );
        }
    }
}

fn sql(c: RawCheck, key: &str, p: &mut Problems) -> Option<CheckKind> {
    unused(
        p,
        key,
        "sql",
        &[
            ("table", c.table.is_some()),
            ("column", c.column.is_some()),
            ("within", c.within.is_some()),
        ],
    );
    let sql = c.sql.unwrap_or_default();
    if sql.trim().is_empty() {
        p.push(
            &format!("{key}.sql"),
            "an sql check needs `sql`",
            "add sql = \"select count(*) from orders\"",
        );
    }
    let expect = match c.expect.as_deref().map(Expect::parse) {
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            p.push(
                &format!("{key}.expect"),
                e,
                "write e.g. \">= 1000\", \"== 'ok'\", \"between 1 and 5\" or \"is null\"",
            );
            return None;
        }
        None => {
            p.push(
                &format!("{key}.expect"),
                "an sql check needs `expect`",
                "add expect = \">= 1\"",
            );
            return None;
        }
    };
    Some(CheckKind::Sql { sql, expect })
}

/// `row-counts`, `schema` and `amcheck`: checks of the whole database, without a query.
fn whole_database(c: RawCheck, key: &str, kind: &str, p: &mut Problems) -> CheckKind {
    unused(
        p,
        key,
        kind,
        &[
            ("sql", c.sql.is_some()),
            ("expect", c.expect.is_some()),
            ("table", c.table.is_some()),
            ("column", c.column.is_some()),
            ("within", c.within.is_some()),
        ],
    );
    match kind {
        "row-counts" => CheckKind::RowCounts,
        "schema" => CheckKind::Schema,
        _ => CheckKind::Amcheck {
            heapallindexed: c.heapallindexed.unwrap_or(false),
        },
    }
}

fn freshness(c: RawCheck, key: &str, p: &mut Problems) -> Option<CheckKind> {
    unused(
        p,
        key,
        "freshness",
        &[("sql", c.sql.is_some()), ("expect", c.expect.is_some())],
    );
    let within = duration(c.within, &format!("{key}.within"), p);
    let (Some(table), Some(column), Some(within)) = (c.table, c.column, within) else {
        p.push(
            key,
            "a freshness check needs `table`, `column` and `within`",
            "add table = \"orders\", column = \"created_at\", within = \"1h\"",
        );
        return None;
    };
    Some(CheckKind::Freshness {
        table,
        column,
        within,
    })
}

/// Physical backups (pgBackRest) carry no pg_dump fingerprint to compare a restore with:
/// `row-counts` and `schema` checks of such a source are refused.
pub(super) fn physical_checks(checks: &[CheckSpec], p: &mut Problems) {
    for c in checks {
        if matches!(c.kind, CheckKind::RowCounts | CheckKind::Schema) {
            p.push(
                &format!("check.{}", c.name),
                format!(
                    "a `{}` check compares the restore with the pg_dump fingerprint of a backup, and physical backups (pgBackRest) carry none",
                    c.kind.label()
                ),
                "remove it; prove a physical restore with sql, freshness and amcheck checks",
            );
        }
    }
}
