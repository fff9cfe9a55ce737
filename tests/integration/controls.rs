//! Negative controls: every drill proves its checks able to fail by injecting known faults
//! (rolled back, or in memory) and seeing each caught.

use serde_json::Value;

use firedrill::drill::DrillOptions;

use crate::support::{firedrill, passed_drill, text, Env, SourceDb};

const SCHEMA: &str = "create table customers (id int primary key, name text not null);
     create table orders (id int generated always as identity primary key,
                          customer int references customers (id), total numeric,
                          created_at timestamptz not null default now());
     create index orders_customer on orders (customer);
     insert into customers select g, 'c' || g from generate_series(1, 20) g;
     insert into orders (customer, total) select 1 + g % 20, g from generate_series(1, 200) g;";

/// `drill SPEC --json`, which must exit with `code`: its report.
fn drilled(spec: &str, code: i32) -> Value {
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["report"].clone()
}

/// The controls of a report, as (control, check, status).
fn controls(report: &Value) -> Vec<(String, String, String)> {
    let n = &report["negative_controls"];
    assert_eq!(n["version"], 1, "{n}");
    n["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["control"].as_str().unwrap().to_string(),
                c["check"].as_str().unwrap_or("").to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(report: &'a Value, control: &str, check: &str) -> Vec<&'a Value> {
    report["negative_controls"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["control"] == control && c["check"].as_str().unwrap_or("") == check)
        .collect()
}

/// Every built-in check and the data path: each fault is caught and named, the drill passes,
/// the restored database is left as restored (the faults were rolled back), and the cost is a
/// phase of its own outside the RTO.
#[tokio::test]
async fn every_fault_is_caught_and_rolled_back() {
    let db = SourceDb::create(SCHEMA).await;
    let env = Env::new();
    let path = env.write(
        &env.spec("ctl", &db.url())
            .check("rows", "row-counts")
            .check("schema", "schema")
            .check("fresh", "freshness")
            .with("table", "orders")
            .with("column", "created_at")
            .with("within", "1h")
            .sql_check("orders", "select count(*) from orders", ">= 200"),
    );
    let out = firedrill(&["backup", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let spec = env.load(&path);
    let opts = DrillOptions {
        keep: true,
        ..DrillOptions::default()
    };
    let outcome = passed_drill(&spec, &opts).await;
    let r = serde_json::to_value(&outcome.report).unwrap();
    let all = controls(&r);
    assert!(
        all.iter().all(|(_, _, s)| s == "caught"),
        "every control must be caught: {all:?}"
    );
    // Two integrity controls: a flipped bit and a foreign identity.
    let integrity = find(&r, "integrity", "");
    assert_eq!(integrity.len(), 2, "{all:?}");
    let by = |c: &Value| c["caught_by"].as_str().unwrap().to_string();
    assert!(
        by(integrity[0]).contains("is corrupted"),
        "{}",
        integrity[0]
    );
    assert!(
        by(integrity[1]).contains("cannot decrypt"),
        "{}",
        integrity[1]
    );
    // Deleting from customers is refused by the foreign key: orders is the victim. Inserting
    // a copy into customers needs its primary key dropped first (inside the transaction).
    let rows = find(&r, "row-counts", "rows");
    assert_eq!(rows.len(), 2);
    assert!(
        by(rows[0]).contains("public.orders: 199 rows, expected 200"),
        "{}",
        rows[0]
    );
    assert!(
        by(rows[1]).contains("public.customers: 21 rows, expected 20"),
        "{}",
        rows[1]
    );
    let schema = find(&r, "schema", "schema")[0];
    assert!(
        schema["fault"]
            .as_str()
            .unwrap()
            .contains("orders_customer"),
        "{schema}"
    );
    assert!(by(schema).contains("indexes: 2, expected 3"), "{schema}");
    assert!(find(&r, "sql", "orders")[0]["fault"]
        .as_str()
        .unwrap()
        .contains("public.orders emptied"));
    assert!(by(find(&r, "freshness", "fresh")[0]).contains("check `fresh` failed"));

    // Outside the RTO, inside the report's phases.
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&r["phases"]).last().map(String::as_str),
        Some("negative-controls")
    );
    assert!(!names(&r["rto"]["phases"]).contains(&"negative-controls".to_string()));
    let md = firedrill::report::render_markdown(&outcome.report);
    assert!(md.contains("## Negative controls"), "{md}");

    // Every fault was rolled back: the kept scratch database is as restored.
    let url = outcome.kept_url.clone().expect("--keep gives a URL");
    let (kept, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let row = kept
        .query_one(
            "select (select count(*) from customers), (select count(*) from orders), \
             (select count(*) from pg_indexes where schemaname = 'public'), \
             (select count(*) from pg_constraint where conrelid = 'orders'::regclass and contype = 'f')",
            &[],
        )
        .await
        .unwrap();
    let got: (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(got, (20, 200, 3, 1));
    drop(kept);
    firedrill::scratch::sweep(&spec, &firedrill::pg::PgTools::default())
        .await
        .unwrap();
    env.assert_no_leftovers();
}

/// An sql check that passes on empty tables is vacuous (a warning, the drill passes); one
/// whose query reads no table cannot be controlled (unknown).
#[tokio::test]
async fn a_check_that_passes_on_empty_tables_is_vacuous() {
    let db = SourceDb::create(SCHEMA).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("vac", &db.url())
            .sql_check("any count", "select count(*) from orders", ">= 0")
            .sql_check("constant", "select 1", "== 1")
            .sql_check(
                "series",
                "select count(*) from generate_series(1, 3)",
                "== 3",
            ),
    );
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    let r = drilled(spec, 0);
    let all = controls(&r);
    let status = |check: &str| {
        all.iter()
            .find(|(_, c, _)| c == check)
            .map(|(_, _, s)| s.clone())
            .unwrap()
    };
    assert_eq!(status("any count"), "vacuous", "{all:?}");
    assert_eq!(status("constant"), "unknown", "{all:?}");
    assert_eq!(status("series"), "unknown", "{all:?}");
    let vacuous = &find(&r, "sql", "any count")[0];
    assert!(
        vacuous["detail"]
            .as_str()
            .unwrap()
            .contains("still passes on empty tables"),
        "{vacuous}"
    );
}

/// A check that cannot see the fault aimed at it fails the drill: here a manifest whose
/// fingerprint does not count indexes (as an older or edited one may), so the schema check
/// cannot notice a dropped index.
#[tokio::test]
async fn a_check_that_cannot_fail_fails_the_drill() {
    let db = SourceDb::create(SCHEMA).await;
    let env = Env::new();
    let spec = env.write(&env.spec("blind", &db.url()).check("schema", "schema"));
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["backup_id"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = env.dest("dr").join("blind").join(&id).join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let objects = m["fingerprint"]["objects"].as_object_mut().unwrap();
    assert!(objects.remove("indexes").is_some(), "{objects:?}");
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();

    let r = drilled(spec, 1);
    assert_eq!(r["verdict"], "failed");
    assert_eq!(r["checks"][0]["pass"], true, "the check itself passed");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("the checks could not fail: schema control of check `schema`"),
        "{reason}"
    );
    assert_eq!(find(&r, "schema", "schema")[0]["status"], "missed");
    env.assert_no_leftovers();
}

/// `drill.negative-controls = false` skips them: no section in the report.
#[tokio::test]
async fn negative_controls_can_be_turned_off() {
    let db = SourceDb::create(SCHEMA).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("off", &db.url())
            .check("rows", "row-counts")
            .drill("negative-controls", false),
    );
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    let r = drilled(spec, 0);
    assert!(r.get("negative_controls").is_none(), "{r}");
}

/// The demo's report shows the negative controls, every one caught: the first report a
/// newcomer reads proves its checks able to fail.
#[test]
fn the_demo_report_shows_its_controls_caught() {
    let dir = tempfile::Builder::new()
        .prefix("firedrill-demo-controls-")
        .tempdir()
        .unwrap();
    let out = firedrill(&["demo", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shop = dir.path().join("reports").join("shop");
    let file = |ext: &str| crate::support::file_with_ext(&shop, ext);
    let r: Value = serde_json::from_slice(&std::fs::read(file("json")).unwrap()).unwrap();
    let all = controls(&r);
    assert!(all.len() >= 6, "{all:?}");
    assert!(all.iter().all(|(_, _, s)| s == "caught"), "{all:?}");
    let md = std::fs::read_to_string(file("md")).unwrap();
    assert!(md.contains("## Negative controls"), "{md}");
    assert!(!md.contains("MISSED"), "{md}");
}
