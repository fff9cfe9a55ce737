//! Schema control: one index dropped; the schema check must then fail.

use tokio_postgres::Client;

use super::{txn, Control, ControlStatus, Subject};
use crate::pg::conn::pg_message;
use crate::source::fingerprint;
use crate::verify::checks;

/// Indexes tried before the control gives up.
const CANDIDATES: i64 = 5;

pub(super) async fn control(s: &Subject<'_>, check: &str) -> Control {
    let blank = Control::new("schema", Some(check), "one index dropped");
    if let Err(why) = txn::begin(s.client).await {
        return blank.with(ControlStatus::Unknown, why);
    }
    let result = inject_and_check(s, check, blank).await;
    txn::rollback(s.client).await;
    result
}

async fn inject_and_check(s: &Subject<'_>, check: &str, blank: Control) -> Control {
    let drops = match candidates(s.client).await {
        Ok(d) => d,
        Err(why) => return blank.with(ControlStatus::Unknown, why),
    };
    if drops.is_empty() {
        return blank.with(
            ControlStatus::NotApplicable,
            "the restored database has no index of its own",
        );
    }
    let mut refused = Vec::new();
    for (index, stmt) in drops {
        if let Err(why) = txn::attempt(s.client, &stmt).await {
            refused.push(format!("{index}: {why}"));
            continue;
        }
        let control = Control::new("schema", Some(check), format!("index {index} dropped"));
        let objects = match fingerprint::objects(s.client).await {
            Ok(o) => o,
            Err(e) => return control.with(ControlStatus::Unknown, e.message),
        };
        let fp = crate::source::Fingerprint {
            tables: Vec::new(),
            objects,
        };
        let (_, actual, pass, details) = checks::schema(s.expected, &fp);
        return if pass {
            control.with(
                ControlStatus::Missed,
                format!("the schema check still sees {actual}"),
            )
        } else {
            control.caught(format!("check `{check}` failed: {}", details.join("; ")))
        };
    }
    blank.with(
        ControlStatus::NotApplicable,
        format!("no index could be dropped: {}", refused.join("; ")),
    )
}

/// Indexes in user schemas (not of extensions), each with the statement that drops it: plain
/// indexes first, then those behind a constraint.
async fn candidates(client: &Client) -> Result<Vec<(String, String)>, String> {
    let rows = client
        .query(
            "select c.oid::regclass::text, \
               case when k.oid is null then format('drop index %s', c.oid::regclass) \
               else format('alter table %s drop constraint %I cascade', k.conrelid::regclass, k.conname) end \
             from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             left join pg_constraint k on k.conindid = c.oid \
             where c.relkind = 'i' and n.nspname not in ('pg_catalog', 'information_schema') \
             and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%' \
             and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass \
                             and d.objid = c.oid and d.deptype = 'e') \
             order by k.oid is not null, 1 limit $1",
            &[&CANDIDATES],
        )
        .await
        .map_err(|e| pg_message(&e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
